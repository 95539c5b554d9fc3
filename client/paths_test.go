package client

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Every path keyfob uses, from the environment variables that decide it.
func TestPaths(t *testing.T) {
	uid := strconv.Itoa(os.Getuid())
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"XDG", map[string]string{"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/7", "XDG_STATE_HOME": "/s", "XDG_CONFIG_HOME": "/c"},
			map[string]string{
				"socket": "/run/user/7/keyfob/agent.sock", "config": "/c/keyfob/config.toml", "state": "/s/keyfob",
				"audit": "/s/keyfob/audit.log", "agentlog": "/s/keyfob/agent.log", "keyring": "/s/keyfob/keyring",
				"units": "/c/systemd/user", "private": "/run/user/7/systemd/private",
			}},
		{"home only", map[string]string{"HOME": "/home/u", "TMPDIR": "/t"},
			map[string]string{
				"socket": "/t/keyfob-" + uid + "/agent.sock", "config": "/home/u/.config/keyfob/config.toml",
				"state": "/home/u/.local/state/keyfob", "audit": "/home/u/.local/state/keyfob/audit.log",
				"keyring": "/home/u/.local/state/keyfob/keyring", "units": "/home/u/.config/systemd/user", "private": "",
			}},
		{"keyfob's own variables", map[string]string{"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/7", "KEYFOB_SOCKET": "/tmp/g/grant.sock", "KEYFOB_CONFIG": "/etc/kf.toml"},
			map[string]string{"socket": "/tmp/g/grant.sock", "config": "/etc/kf.toml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"XDG_RUNTIME_DIR", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "KEYFOB_SOCKET", "KEYFOB_CONFIG", "TMPDIR"} {
				t.Setenv(k, "")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			units, err := UserUnitDir()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{
				"socket": SocketPath(), "config": ConfigPath(), "state": StateDir(), "audit": AuditPath(),
				"agentlog": AgentLog(), "keyring": KeyringDir(), "units": units, "private": systemdPrivate(),
			}
			for k, want := range tc.want {
				if got[k] != filepath.FromSlash(want) {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
			if dirs := systemdUnitDirs(); dirs[0] != units {
				t.Errorf("systemdUnitDirs()[0] = %q, want UserUnitDir %q", dirs[0], units)
			}
		})
	}
}
