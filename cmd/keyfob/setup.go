package main

import (
	"errors"
	"flag"
	"fmt"
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
	var names []string
	for n := range setupTargets {
		names = append(names, n)
	}
	slices.Sort(names)
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
	var undo []setup.Step
	changed := 0
	for _, h := range hosts {
		u, steps, err := setup.PlanHost(h, helper)
		if errors.Is(err, setup.ErrHost) {
			return usageError{err.Error()}
		} else if err != nil {
			return err
		}
		undo = append(undo, setup.Undo(u)...)
		if len(steps) == 0 {
			fmt.Fprintf(e.stdout, "%s: already set up, nothing to change\n", u)
			continue
		}
		changed++
		for _, s := range steps {
			if *dry {
				fmt.Fprintf(e.stdout, "would run: %s\n", s)
				continue
			}
			if err := s.Run(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "ran: %s\n", s)
		}
		if !*dry {
			fmt.Fprintf(e.stdout, "%s: git now asks only keyfob (%s), with useHttpPath on\n", u, helper)
		}
	}
	if changed > 0 || *dry {
		fmt.Fprintln(e.stdout, "to undo:")
		for _, s := range undo {
			fmt.Fprintf(e.stdout, "  %s\n", s)
		}
	}
	return nil
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
	files, err := setup.Units(dir, *exe)
	if err != nil {
		return err
	}
	changed := 0
	for _, f := range files {
		switch {
		case f.Current:
			fmt.Fprintf(e.stdout, "%s: up to date\n", f.Path)
			continue
		case *dry:
			fmt.Fprintf(e.stdout, "would write %s:\n", f.Path)
			for _, l := range strings.SplitAfter(strings.TrimSuffix(string(f.Data), "\n"), "\n") {
				fmt.Fprintf(e.stdout, "    %s", strings.TrimSuffix(l, "\n")+"\n")
			}
		default:
			if err := f.Write(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "wrote %s\n", f.Path)
		}
		changed++
	}
	if s := os.Getenv("KEYFOB_SOCKET"); s != "" {
		fmt.Fprintf(e.stderr, "keyfob: warning: KEYFOB_SOCKET=%s, but the socket unit listens at $XDG_RUNTIME_DIR/keyfob/agent.sock\n", s)
	}
	fmt.Fprintln(e.stdout, "to start keyfob with your session, run:")
	if changed > 0 {
		fmt.Fprintln(e.stdout, "  systemctl --user daemon-reload")
	}
	fmt.Fprintln(e.stdout, "  systemctl --user enable --now keyfob.socket")
	if resp, err := client.Call(client.SocketPath(), &client.Request{Op: client.OpPing}); err == nil && resp.Status != nil {
		fmt.Fprintf(e.stderr, "keyfob: warning: an agent (pid %d) already runs outside systemd: stop it (kill %d) before enabling the socket\n", resp.Status.PID, resp.Status.PID)
	}
	return nil
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
	fn, err := setup.GHFunction(*shell)
	if err != nil {
		return usageError{"--shell: " + err.Error()}
	}
	if !*install {
		fmt.Fprint(e.stdout, fn)
		return nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return err
	}
	rc, line, err := setup.GHLoader(*shell, home)
	if err != nil {
		return usageError{"--shell: " + err.Error()}
	}
	changed, err := setup.InstallGH(rc, line)
	if err != nil {
		return err
	}
	if changed {
		fmt.Fprintf(e.stdout, "added to %s: %s\nnew %s shells run gh through keyfob exec\n", rc, line, *shell)
	} else {
		fmt.Fprintf(e.stdout, "%s already loads it\n", rc)
	}
	return nil
}
