package client

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/keyfob/keyfob/client/pump"
)

// Where keyfob keeps its files. This file is the one place that knows the
// XDG base directories and their fallbacks; everything else asks it.
//
//	socket   $KEYFOB_SOCKET, else $XDG_RUNTIME_DIR/keyfob/agent.sock,
//	         else $TMPDIR/keyfob-UID/agent.sock
//	config   $KEYFOB_CONFIG, else $XDG_CONFIG_HOME/keyfob/config.toml
//	state    $XDG_STATE_HOME/keyfob: audit.log, agent.log, keyring/
//	units    $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user

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

// SocketPath returns where the agent listens: $KEYFOB_SOCKET, else
// $XDG_RUNTIME_DIR/keyfob/agent.sock, else a per-uid directory in the
// system temporary directory (which the agent checks before using).
func SocketPath() string { return pump.SocketPath() }

// defaultSocketPath is SocketPath without $KEYFOB_SOCKET.
func defaultSocketPath() string { return pump.DefaultSocketPath() }

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

// AgentLog is where an agent started by the helper writes its log.
func AgentLog() string { return filepath.Join(StateDir(), "agent.log") }

// KeyringDir holds the file backend's items.
func KeyringDir() string { return filepath.Join(StateDir(), "keyring") }

// UserUnitDir is where systemd looks for the user's own units:
// $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user.
func UserUnitDir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "systemd", "user"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the user unit directory: %w", err)
	}
	return filepath.Join(home, ".config", "systemd", "user"), nil
}

// systemdUnitDirs are where a user unit may be enabled: the user's own
// (UserUnitDir, for a lookup that must not fail) and the system's.
func systemdUnitDirs() []string {
	return []string{filepath.Join(xdg("XDG_CONFIG_HOME", ".config"), "systemd", "user"), "/etc/systemd/user"}
}

// systemdPrivate is the socket of the user's running systemd instance, ""
// without a runtime directory.
func systemdPrivate() string {
	if run := os.Getenv("XDG_RUNTIME_DIR"); run != "" {
		return filepath.Join(run, "systemd", "private")
	}
	return ""
}

// launchAgentPlist is where keyfob's launchd agent is installed on macOS.
func launchAgentPlist() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "Library/LaunchAgents", LaunchdLabel+".plist"), nil
}
