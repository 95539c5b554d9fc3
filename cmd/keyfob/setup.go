package main

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/cliflag"
	"github.com/keyfob/keyfob/daemon/setup"
)

// setupTargets are the things keyfob setup configures.
var setupTargets = map[string]func(e *env, args []string) error{
	"git":     cmdSetupGit,
	"systemd": cmdSetupSystemd,
	"gh":      cmdSetupGH,
}

func cmdSetup(e *env, args []string) error {
	names := slices.Sorted(maps.Keys(setupTargets))
	if len(args) == 0 {
		return usageError{"setup needs what to set up: " + strings.Join(names, " or ")}
	}
	if isHelp(args[0]) {
		fmt.Fprintf(e.stdout, "usage: keyfob %s\n", commands["setup"].usage)
		for _, n := range names {
			fmt.Fprintln(e.stdout)
			setupTargets[n](e, args)
		}
		return flag.ErrHelp
	}
	run, ok := setupTargets[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("setup %q: want %s", args[0], strings.Join(names, " or "))}
	}
	return run(e, args[1:])
}

func cmdSetupGit(e *env, args []string) error {
	fs := newFlags("setup git", e)
	var hosts cliflag.List
	fs.Var(&hosts, "host", "host[:port] or https://host[:port] to set keyfob up for (repeatable; default github.com)")
	dry := fs.Bool("dry-run", false, "print the changes without making them")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{"setup git takes no arguments besides flags"}
	}
	if len(hosts) == 0 {
		hosts = cliflag.List{"github.com"}
	}
	helper, err := setup.HelperPath()
	if err != nil {
		return hinted{err, "install it next to keyfob or on PATH (make install)"}
	}
	if err = setup.Git(e.stdout, hosts, helper, *dry); errors.Is(err, setup.ErrHost) {
		return usageError{err.Error()}
	}
	return err
}

// cmdSetupSystemd writes keyfob.socket and keyfob.service into the user's
// unit directory, with ExecStart naming this keyfob (or --exe). Units that
// are already as they should be are left alone.
func cmdSetupSystemd(e *env, args []string) error {
	fs := newFlags("setup systemd", e)
	dry := fs.Bool("dry-run", false, "print the units and where they go, without writing")
	exe := fs.String("exe", "", "the keyfob the units start (default: this one)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{"setup systemd takes no arguments besides flags"}
	}
	if *exe, err = setup.Executable(*exe); errors.Is(err, setup.ErrNotExecutable) {
		return hinted{err, "pass --exe with the installed keyfob"}
	} else if err != nil {
		return err
	}
	dir, err := client.UserUnitDir()
	if err != nil {
		return err
	}
	return setup.Systemd(e.stdout, e.stderr, dir, *exe, *dry)
}

// cmdSetupGH prints the shell function that runs a plain gh through
// keyfob exec, or with --install adds the line that loads it to the
// shell's rc file, once.
func cmdSetupGH(e *env, args []string) error {
	fs := newFlags("setup gh", e)
	shell := fs.String("shell", filepath.Base(os.Getenv("SHELL")), "bash, zsh or fish (the default comes from $SHELL)")
	install := fs.Bool("install", false, "add the line that loads the function to the shell's rc file (once)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	home, err := os.UserHomeDir()
	if err != nil && *install {
		return err
	}
	if err = setup.GH(e.stdout, *shell, home, *install); errors.Is(err, setup.ErrShell) {
		return usageError{"--shell: " + err.Error()}
	}
	return err
}
