package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keyfob/keyfob/daemon/policy"
)

// setupTargets are the things keyfob setup configures; other files add
// theirs (systemd) in init.
var setupTargets = map[string]func(e *env, args []string) error{
	"git": cmdSetupGit,
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
	run, ok := setupTargets[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("setup %q: want %s", args[0], strings.Join(names, " or "))}
	}
	return run(e, args[1:])
}

// credentialURL turns --host's value into the URL git matches credential
// settings against: a bare host means https; http is accepted only for
// loopback hosts, as the agent hands tokens out over nothing else.
func credentialURL(h string) (string, error) {
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.User != nil {
		return "", usageError{fmt.Sprintf("--host %q: want host[:port] or https://host[:port]", h)}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && policy.IsLoopback(u.Host):
	default:
		return "", usageError{fmt.Sprintf("--host %q: keyfob serves https, and plain http only for loopback hosts", h)}
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// helperPath finds git-credential-keyfob: beside this executable first
// (an install puts both in one directory), then on PATH. git runs an
// absolute helper directly, without a "git credential-…" lookup.
func helperPath() (string, error) {
	const name = "git-credential-keyfob"
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", hinted{fmt.Errorf("find %s: %w", name, err), "install it next to keyfob or on PATH (make install)"}
	}
	return filepath.Abs(p)
}

// shellQuotePath escapes a path for git, which runs an absolute helper
// through the shell; it stays absolute, so git still runs it as is.
func shellQuotePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+", r)) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// gitConfig runs git config with args and returns its output; a missing
// key is not an error.
func gitConfig(args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"config"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && stderr.Len() == 0 {
		return "", nil // no such key
	}
	if err != nil {
		return "", fmt.Errorf("git config %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func cmdSetupGit(e *env, args []string) error {
	fs := newFlags("setup git", e)
	var hosts hostList
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
		hosts = hostList{"github.com"}
	}
	helper, err := helperPath()
	if err != nil {
		return err
	}
	helper = shellQuotePath(helper)
	var undo []string
	changed := 0
	for _, h := range hosts {
		u, err := credentialURL(h)
		if err != nil {
			return err
		}
		steps, err := gitSetupSteps(u, helper)
		if err != nil {
			return err
		}
		undo = append(undo,
			fmt.Sprintf("git config --global --unset-all credential.%s.helper", u),
			fmt.Sprintf("git config --global --unset credential.%s.useHttpPath", u))
		if len(steps) == 0 {
			fmt.Fprintf(e.stdout, "%s: already set up, nothing to change\n", u)
			continue
		}
		changed++
		for _, s := range steps {
			line := "git config --global " + strings.Join(quoteArgs(s), " ")
			if *dry {
				fmt.Fprintf(e.stdout, "would run: %s\n", line)
				continue
			}
			if _, err := gitConfig(append([]string{"--global"}, s...)...); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "ran: %s\n", line)
		}
		if !*dry {
			fmt.Fprintf(e.stdout, "%s: git now asks only keyfob (%s), with useHttpPath on\n", u, helper)
		}
	}
	if changed > 0 || *dry {
		fmt.Fprintln(e.stdout, "to undo:")
		for _, u := range undo {
			fmt.Fprintf(e.stdout, "  %s\n", u)
		}
	}
	return nil
}

// gitSetupSteps returns the git config arguments (after --global) that make
// keyfob git's only helper for u, with useHttpPath on: an empty helper
// first, so helpers set elsewhere neither answer for u nor store keyfob's
// token, then keyfob's absolute path. Nothing when that is already so.
func gitSetupSteps(u, helper string) ([][]string, error) {
	key := "credential." + u + ".helper"
	out, err := gitConfig("--global", "--get-all", key)
	if err != nil {
		return nil, err
	}
	cur := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" {
		cur = nil
	}
	var steps [][]string
	if !slices.Equal(cur, []string{"", helper}) {
		if len(cur) > 0 {
			steps = append(steps, []string{"--unset-all", key})
		}
		steps = append(steps, []string{"--add", key, ""}, []string{"--add", key, helper})
	}
	path, err := gitConfig("--global", "--type=bool", "--get", "credential."+u+".useHttpPath")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(path) != "true" {
		steps = append(steps, []string{"credential." + u + ".useHttpPath", "true"})
	}
	return steps, nil
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\\'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}
