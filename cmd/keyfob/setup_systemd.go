package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/contrib"
)

func init() { setupTargets["systemd"] = cmdSetupSystemd }

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
	if *exe == "" {
		if *exe, err = os.Executable(); err != nil {
			return fmt.Errorf("find keyfob's own path: %w", err)
		}
	}
	if *exe, err = filepath.Abs(*exe); err != nil {
		return fmt.Errorf("--exe: %w", err)
	}
	if fi, err := os.Stat(*exe); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return hinted{fmt.Errorf("%s is not an executable file", *exe), "pass --exe with the installed keyfob"}
	}
	dir, err := client.UserUnitDir()
	if err != nil {
		return err
	}
	changed := 0
	for _, name := range contrib.Units {
		want, err := contrib.Unit(name, *exe)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, name)
		have, err := os.ReadFile(path)
		switch {
		case err == nil && bytes.Equal(have, want):
			fmt.Fprintf(e.stdout, "%s: up to date\n", path)
			continue
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("read %s: %w", path, err)
		}
		changed++
		if *dry {
			fmt.Fprintf(e.stdout, "would write %s:\n", path)
			for _, l := range strings.SplitAfter(strings.TrimSuffix(string(want), "\n"), "\n") {
				fmt.Fprintf(e.stdout, "    %s", strings.TrimSuffix(l, "\n")+"\n")
			}
			continue
		}
		if err := writeAtomic(path, want, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", path)
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

// writeAtomic writes b to path through a temporary file and a rename, so a
// reader never sees half a unit.
func writeAtomic(path string, b []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
