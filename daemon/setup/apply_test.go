package setup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Git sets each host up against real git, says so and how to undo it;
// run again it changes nothing; dry changes nothing at all.
func TestGitApply(t *testing.T) {
	gitHome(t)
	var dry strings.Builder
	if err := Git(&dry, []string{"github.com"}, helper, true); err != nil {
		t.Fatal(err)
	}
	if cur, _ := Current("https://github.com"); len(cur.Helpers) != 0 || !strings.Contains(dry.String(), "would run: git config") || !strings.Contains(dry.String(), "to undo:") {
		t.Fatalf("Git(dry) changed git (%+v) or said\n%s", cur, dry.String())
	}
	var out strings.Builder
	if err := Git(&out, []string{"github.com", "https://ghe.example.com:8443"}, helper, false); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://github.com", "https://ghe.example.com:8443"} {
		if cur, err := Current(u); err != nil || len(cur.Helpers) != 2 || cur.Helpers[1] != helper || !cur.UseHTTPPath {
			t.Errorf("Current(%s) after Git = %+v, %v", u, cur, err)
		}
		if !strings.Contains(out.String(), u+": git now asks only keyfob") {
			t.Errorf("Git output lacks %s:\n%s", u, out.String())
		}
	}
	var again strings.Builder
	if err := Git(&again, []string{"github.com"}, helper, false); err != nil || again.String() != "https://github.com: already set up, nothing to change\n" {
		t.Errorf("Git again = %v, said %q; want nothing to change", err, again.String())
	}
	if err := Git(&again, []string{"https://example.com/path"}, helper, false); !errors.Is(err, ErrHost) {
		t.Errorf("Git(a URL with a path) = %v, want ErrHost", err)
	}
}

func TestSystemdApply(t *testing.T) {
	t.Setenv("KEYFOB_SOCKET", filepath.Join(t.TempDir(), "none.sock")) // no agent answers there
	dir := filepath.Join(t.TempDir(), "systemd", "user")
	var stdout, stderr strings.Builder
	if err := Systemd(&stdout, &stderr, dir, "/opt/keyfob/bin/keyfob", true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keyfob.service")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(stdout.String(), "    ExecStart=/opt/keyfob/bin/keyfob") {
		t.Fatalf("Systemd(dry) wrote a unit (%v) or did not show it:\n%s", err, stdout.String())
	}
	if !strings.Contains(stderr.String(), "keyfob: warning: KEYFOB_SOCKET=") {
		t.Errorf("Systemd stderr = %q, want the KEYFOB_SOCKET warning", stderr.String())
	}
	stdout.Reset()
	if err := Systemd(&stdout, &stderr, dir, "/opt/keyfob/bin/keyfob", false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "wrote "+filepath.Join(dir, "keyfob.service")) || !strings.Contains(stdout.String(), "systemctl --user daemon-reload") {
		t.Errorf("Systemd output:\n%s", stdout.String())
	}
	stdout.Reset()
	if err := Systemd(&stdout, &stderr, dir, "/opt/keyfob/bin/keyfob", false); err != nil || strings.Contains(stdout.String(), "wrote") || strings.Contains(stdout.String(), "daemon-reload") {
		t.Errorf("Systemd again = %v:\n%s\nwant every unit up to date and no daemon-reload", err, stdout.String())
	}
}

func TestGHApply(t *testing.T) {
	home := t.TempDir()
	var out strings.Builder
	if err := GH(&out, "zsh", home, false); err != nil || !strings.Contains(out.String(), "gh() { command keyfob exec --fallback") {
		t.Fatalf("GH(zsh) = %v, printed %q", err, out.String())
	}
	out.Reset()
	if err := GH(&out, "bash", home, true); err != nil || !strings.HasPrefix(out.String(), "added to "+filepath.Join(home, ".bashrc")) {
		t.Fatalf("GH(bash, install) = %v, said %q", err, out.String())
	}
	out.Reset()
	if err := GH(&out, "bash", home, true); err != nil || out.String() != filepath.Join(home, ".bashrc")+" already loads it\n" {
		t.Errorf("GH(bash, install) again = %v, said %q", err, out.String())
	}
	if err := GH(&out, "tcsh", home, false); !errors.Is(err, ErrShell) || err.Error() != `shell "tcsh": want one of bash, zsh, fish` {
		t.Errorf("GH(tcsh) = %v, want ErrShell with its message", err)
	}
}
