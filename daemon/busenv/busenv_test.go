package busenv_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A keyfob process started with no session bus must not run dbus-launch
// (keyring's init would, through godbus, and leave a dbus-daemon behind).
// A fake dbus-launch on PATH records any call.
func TestNoDBusLaunch(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "keyfob")
	build := exec.Command("go", "build", "-o", bin, "github.com/keyfob/keyfob/cmd/keyfob")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	marker := filepath.Join(dir, "called")
	fake := "#!/bin/sh\ntouch " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "dbus-launch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin", "HOME=" + dir}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "keyfob ") {
		t.Fatalf("keyfob version: %v\n%s", err, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("keyfob ran dbus-launch with no session bus")
	}
}
