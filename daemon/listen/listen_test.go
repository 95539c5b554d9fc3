package listen

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "kf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestCreatesPrivateDirAndSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "keyfob", "agent.sock")
	l, err := Unix(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %04o", p, fi.Mode().Perm(), err, want)
		}
	}
	// A live socket means already running.
	if _, err := Unix(path, Options{}); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Unix = %v, want ErrRunning", err)
	}
}

func TestReplacesStaleSocket(t *testing.T) {
	dir := filepath.Join(shortDir(t), "keyfob")
	os.Mkdir(dir, 0o700)
	path := filepath.Join(dir, "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close() // the socket file stays, nobody answers
	l2, err := Unix(path, Options{})
	if err != nil {
		t.Fatalf("Unix over a stale socket = %v", err)
	}
	l2.Close()
}

func TestRefusesOpenDirectory(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"group readable", func(d string) { os.Mkdir(d, 0o750); os.Chmod(d, 0o750) }, "chmod 700"},
		{"world writable", func(d string) { os.Mkdir(d, 0o777); os.Chmod(d, 0o777) }, "chmod 700"},
		{"symlink", func(d string) { os.Symlink(os.TempDir(), d) }, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(shortDir(t), "keyfob")
			tc.setup(dir)
			_, err := Unix(filepath.Join(dir, "agent.sock"), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("Unix in a %s directory = %v, want an error naming %s and %q", tc.name, err, dir, tc.want)
			}
		})
	}
}

func TestRefusesNonSocket(t *testing.T) {
	dir := filepath.Join(shortDir(t), "keyfob")
	os.Mkdir(dir, 0o700)
	path := filepath.Join(dir, "agent.sock")
	os.WriteFile(path, []byte("x"), 0o600)
	if _, err := Unix(path, Options{}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Unix over a regular file = %v", err)
	}
}
