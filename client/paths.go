package client

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

func xdg(env, fallback string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, fallback)
}

// StateDir is where the agent keeps its audit log and file keyring:
// $XDG_STATE_HOME/keyfob, else ~/.local/state/keyfob.
func StateDir() string { return filepath.Join(xdg("XDG_STATE_HOME", ".local/state"), "keyfob") }

// ConfigPath is the config file: $KEYFOB_CONFIG, else
// $XDG_CONFIG_HOME/keyfob/config.toml, else ~/.config/keyfob/config.toml.
func ConfigPath() string {
	if p := os.Getenv("KEYFOB_CONFIG"); p != "" {
		return p
	}
	return filepath.Join(xdg("XDG_CONFIG_HOME", ".config"), "keyfob", "config.toml")
}

// AuditPath is the audit log's default location.
func AuditPath() string { return filepath.Join(StateDir(), "audit.log") }

// ParseRemote turns "github.com/acme/app", "https://user@host/acme/app.git"
// or a git remote URL into the credential git would ask for.
func ParseRemote(s string) (Credential, error) {
	if !strings.Contains(s, "://") {
		if strings.HasPrefix(s, "git@") {
			return Credential{}, fmt.Errorf("%q is an ssh remote: keyfob serves https remotes", s)
		}
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Credential{}, fmt.Errorf("invalid URL %q: want host[/owner[/repo]] or https://host/owner/repo", s)
	}
	c := Credential{Protocol: u.Scheme, Host: u.Host, Path: strings.Trim(u.Path, "/")}
	if u.User != nil {
		c.Username = u.User.Username()
	}
	return c, nil
}
