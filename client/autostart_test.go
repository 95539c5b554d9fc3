//go:build unix

package client

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestAutostartEnabled(t *testing.T) {
	for v, want := range map[string]bool{"": true, "1": true, "yes": true, "0": false, "false": false, "No": false, " off ": false} {
		t.Setenv(AutostartEnv, v)
		if got := AutostartEnabled(); got != want {
			t.Errorf("AutostartEnabled() with %s=%q = %v, want %v", AutostartEnv, v, got, want)
		}
	}
}

func TestAgentEnv(t *testing.T) {
	got := agentEnv([]string{"HOME=/h", "GIT_DIR=/r/.git", "KEYFOB_BACKEND=file", "GIT_EXEC_PATH=/x", "XGIT_=1",
		"NOTIFY_SOCKET=/run/systemd/notify", "LISTEN_FDS=1", "LISTEN_PID=7", "WATCHDOG_USEC=1", "JOURNAL_STREAM=1:2"})
	want := []string{"HOME=/h", "KEYFOB_BACKEND=file", "XGIT_=1"}
	if !slices.Equal(got, want) {
		t.Errorf("agentEnv = %q, want %q", got, want)
	}
}

// A systemd user instance with keyfob.socket enabled runs the agent on the
// default socket; the helper then starts nothing.
func TestManagedBySystemd(t *testing.T) {
	run, cfg := t.TempDir(), t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", run)
	t.Setenv("XDG_CONFIG_HOME", cfg)
	sock := filepath.Join(run, "keyfob", "agent.sock")
	if managed(sock) {
		t.Fatal("managed with no systemd instance")
	}
	mustMkdir(t, filepath.Join(run, "systemd"))
	if err := os.WriteFile(filepath.Join(run, "systemd", "private"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if managed(sock) {
		t.Fatal("managed with keyfob.socket not enabled")
	}
	wants := filepath.Join(cfg, "systemd", "user", "sockets.target.wants")
	mustMkdir(t, wants)
	if err := os.Symlink("../keyfob.socket", filepath.Join(wants, "keyfob.socket")); err != nil {
		t.Fatal(err)
	}
	if !managed(sock) {
		t.Fatal("not managed with keyfob.socket enabled in a running instance")
	}
	if managed(filepath.Join(t.TempDir(), "agent.sock")) {
		t.Error("managed for a socket path the unit does not listen on")
	}
	if err := StartAgent(sock); !errors.Is(err, ErrManaged) {
		t.Errorf("StartAgent under an enabled unit = %v, want ErrManaged", err)
	}
	if _, err := os.Stat(filepath.Dir(sock)); err == nil {
		t.Error("StartAgent under an enabled unit created the socket directory")
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}

func TestStartAgentRefusesOpenDirectory(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	dir := filepath.Join(t.TempDir(), "keyfob")
	mustMkdir(t, dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := StartAgent(filepath.Join(dir, "agent.sock"))
	if err == nil {
		t.Fatal("StartAgent accepted a socket directory open to others")
	}
	if _, serr := os.Stat(filepath.Join(dir, "agent.lock")); serr == nil {
		t.Errorf("StartAgent left a lock file in an open directory (err %v)", err)
	}
}

func TestStartAgentWithoutKeyfob(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("PATH", t.TempDir())
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "keyfob")
	err := StartAgent(filepath.Join(dir, "agent.sock"))
	if err == nil {
		t.Fatal("StartAgent with no keyfob anywhere = nil")
	}
	if fi, serr := os.Stat(dir); serr != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory %s: %v, want it created 0700", dir, serr)
	}
}

// The lock admits one holder at a time, and is free again on release.
func TestLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.lock")
	unlock, err := lockFile(path, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Fatalf("flock while lockFile holds the lock = %v, want EWOULDBLOCK", err)
	}
	unlock()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("flock after release = %v", err)
	}
	if _, err := lockFile(path, 0); err == nil {
		t.Fatal("lockFile got a lock another file holds")
	}
}
