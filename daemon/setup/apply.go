package setup

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keyfob/keyfob/client"
)

// Git makes keyfob (helper, as HelperPath gives it) git's only credential
// helper for each of hosts, with useHttpPath on, and tells w each step it
// runs and then how to undo them; with dry it only tells the steps. A
// host already set up is left alone. A host that is not one is ErrHost.
func Git(w io.Writer, hosts []string, helper string, dry bool) error {
	var undo []Step
	changed := 0
	for _, h := range hosts {
		u, steps, err := PlanHost(h, helper)
		if err != nil {
			return err
		}
		undo = append(undo, Undo(u)...)
		if len(steps) == 0 {
			fmt.Fprintf(w, "%s: already set up, nothing to change\n", u)
			continue
		}
		changed++
		for _, s := range steps {
			if dry {
				fmt.Fprintf(w, "would run: %s\n", s)
				continue
			}
			if err := s.Run(); err != nil {
				return err
			}
			fmt.Fprintf(w, "ran: %s\n", s)
		}
		if !dry {
			fmt.Fprintf(w, "%s: git now asks only keyfob (%s), with useHttpPath on\n", u, helper)
		}
	}
	if changed > 0 || dry {
		fmt.Fprintln(w, "to undo:")
		for _, s := range undo {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	return nil
}

// Systemd writes keyfob.socket and keyfob.service into the unit directory
// dir, with ExecStart naming exe, and tells stdout what it wrote and how
// to start them; with dry it shows the units instead. Units already as
// they should be are left alone. It warns on stderr when KEYFOB_SOCKET
// points elsewhere than the socket unit, and when an agent already runs
// outside systemd.
func Systemd(stdout, stderr io.Writer, dir, exe string, dry bool) error {
	files, err := Units(dir, exe)
	if err != nil {
		return err
	}
	changed := 0
	for _, f := range files {
		switch {
		case f.Current:
			fmt.Fprintf(stdout, "%s: up to date\n", f.Path)
			continue
		case dry:
			fmt.Fprintf(stdout, "would write %s:\n", f.Path)
			for _, l := range strings.SplitAfter(strings.TrimSuffix(string(f.Data), "\n"), "\n") {
				fmt.Fprintf(stdout, "    %s", strings.TrimSuffix(l, "\n")+"\n")
			}
		default:
			if err := f.Write(); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s\n", f.Path)
		}
		changed++
	}
	if s := os.Getenv("KEYFOB_SOCKET"); s != "" {
		fmt.Fprintf(stderr, "keyfob: warning: KEYFOB_SOCKET=%s, but the socket unit listens at $XDG_RUNTIME_DIR/keyfob/agent.sock\n", s)
	}
	fmt.Fprintln(stdout, "to start keyfob with your session, run:")
	if changed > 0 {
		fmt.Fprintln(stdout, "  systemctl --user daemon-reload")
	}
	fmt.Fprintln(stdout, "  systemctl --user enable --now keyfob.socket")
	if resp, err := client.Call(client.SocketPath(), &client.Request{Op: client.OpPing}); err == nil && resp.Status != nil {
		fmt.Fprintf(stderr, "keyfob: warning: an agent (pid %d) already runs outside systemd: stop it (kill %d) before enabling the socket\n", resp.Status.PID, resp.Status.PID)
	}
	return nil
}

// GH prints to w the shell function that runs a plain gh through keyfob
// exec, or with install adds the line that loads it to shell's rc file
// under home, once. A shell it does not know is ErrShell.
func GH(w io.Writer, shell, home string, install bool) error {
	fn, err := GHFunction(shell)
	if err != nil {
		return err
	}
	if !install {
		fmt.Fprint(w, fn)
		return nil
	}
	rc, line, err := GHLoader(shell, home)
	if err != nil {
		return err
	}
	changed, err := InstallGH(rc, line)
	if err != nil {
		return err
	}
	if changed {
		fmt.Fprintf(w, "added to %s: %s\nnew %s shells run gh through keyfob exec\n", rc, line, shell)
	} else {
		fmt.Fprintf(w, "%s already loads it\n", rc)
	}
	return nil
}
