// Package bustest runs a test inside a private D-Bus session with a real,
// unlocked gnome-keyring. keyring connects to the session bus when the
// process starts, so the test binary re-runs itself inside the bus.
package bustest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const inBus = "KEYFOB_TEST_IN_BUS"

// InBus reports whether this process runs inside the private bus.
func InBus() bool { return os.Getenv(inBus) == "1" }

const script = `set -e
eval "$(printf %s keyfob-test-login | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
# --unlock returns before the daemon owns its name; without this wait D-Bus
# activation starts a second, locked daemon.
i=0
until dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; do
  i=$((i+1)); [ $i -lt 200 ] || { echo "gnome-keyring did not take org.freedesktop.secrets" >&2; exit 1; }
  sleep 0.05
done
exec "$@"
`

// Run re-runs the calling test (named name) inside a private bus and fails
// t when it fails there. Call it at the top of the test:
//
//	if !bustest.InBus() { bustest.Run(t, "TestSecretService"); return }
func Run(t *testing.T, name string) {
	t.Helper()
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon", "dbus-send"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (packages dbus, gnome-keyring): run make deps", tool)
		}
	}
	home := t.TempDir()
	run := filepath.Join(home, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c", script, "sh",
		os.Args[0], "-test.run", "^"+name+"$", "-test.count=1", "-test.v")
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "HOME="+home, "XDG_RUNTIME_DIR="+run, inBus+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("inside a private D-Bus session with gnome-keyring:\n%s", out)
	if err != nil {
		t.Fatalf("%s inside the bus: %v", name, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("%s did not pass inside the bus", name)
	}
}
