package daemon

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
)

// goroutines returns the ids and stacks of every goroutine but the caller.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	out := map[string]string{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the caller's own
		}
		if m := regexp.MustCompile(`^goroutine (\d+) `).FindStringSubmatch(g); m != nil {
			out[m[1]] = g
		}
	}
	return out
}

// leaked waits for goroutines that did not run before to end, and returns
// the stacks of those that did not. The wait is long (a loaded machine
// running the race detector schedules an exiting goroutine late, and
// fsnotify's reader ends after its Close returns); a goroutine Run leaks
// never ends, so the check still fails for it, only later.
func leaked(before map[string]string) []string {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left []string
		for id, g := range goroutines() {
			if _, ok := before[id]; !ok {
				left = append(left, g)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// notifySocket makes a socket like systemd's for sd_notify and points
// NOTIFY_SOCKET at it.
func notifySocket(t *testing.T, dir string) *net.UnixConn {
	path := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return c
}

// waitNotify reads sd_notify messages until one holds want.
func waitNotify(t *testing.T, c *net.UnixConn, want string) {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("waiting for %q from sd_notify: %v", want, err)
		}
		if slices.Contains(strings.Split(string(buf[:n]), "\n"), want) {
			return
		}
	}
}

// waitStatus asks the agent for its status until ok accepts it.
func waitStatus(t *testing.T, sock string, ok func(*client.Status) bool) *client.Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Call(sock, &client.Request{Op: client.OpStatus})
		if err == nil && resp.Status != nil && ok(resp.Status) {
			return resp.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("status at %s: %+v, %v; not the one awaited", sock, resp, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testOptions(t *testing.T) (Options, string) {
	// A short directory of its own: socket paths are capped near 100 bytes.
	dir, err := os.MkdirTemp("", "kfd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, k := range []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "KEYFOB_SOCKET"} {
		t.Setenv(k, "")
	}
	return Options{
		Backend:    "file",
		Passphrase: client.NewSecret("correct horse battery staple"),
		Socket:     filepath.Join(dir, "keyfob", "agent.sock"),
		AuditPath:  filepath.Join(dir, "state", "audit.log"),
		ConfigPath: filepath.Join(dir, "config", "config.toml"),
		KeyringDir: filepath.Join(dir, "state", "keyring"),
		StateDir:   filepath.Join(dir, "state"),
	}, dir
}

// Run serves until its context ends, tells the service manager so, reloads
// the config on Reload, and returns only after every goroutine it started
// has ended and the socket is gone.
func TestRunOwnsItsGoroutines(t *testing.T) {
	o, dir := testOptions(t)
	notes := notifySocket(t, dir)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	reload := make(chan os.Signal, 1)
	o.Reload = reload
	o.AutoLock = time.Hour
	o.CheckEvery = 10 * time.Millisecond

	before := goroutines()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()

	waitNotify(t, notes, "READY=1")
	st := waitStatus(t, o.Socket, func(*client.Status) bool { return true })
	if st.Locked || st.Backend != "file" || st.Socket != o.Socket || st.Config != o.ConfigPath {
		t.Errorf("status = %+v, want an unlocked file backend at %s with config %s", st, o.Socket, o.ConfigPath)
	}
	waitNotify(t, notes, "WATCHDOG=1")

	// The watcher sees the write too; Reload loads it in any case. The
	// watcher creates the config's directory in a goroutine of its own,
	// which may not have run yet.
	if err := os.MkdirAll(filepath.Dir(o.ConfigPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(o.ConfigPath, []byte("not [toml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reload <- syscall.SIGHUP
	waitStatus(t, o.Socket, func(s *client.Status) bool { return s.ConfigErr != "" })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after the context ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	waitNotify(t, notes, "STOPPING=1")
	if _, err := os.Lstat(o.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Run: %v, want it removed", err)
	}
	if left := leaked(before); len(left) > 0 {
		t.Errorf("%d goroutines outlived Run:\n\n%s", len(left), strings.Join(left, "\n\n"))
	}
}

// A second Run on a socket that answers is ErrRunning, and leaves the
// first one serving.
func TestRunRefusesALiveSocket(t *testing.T) {
	o, _ := testOptions(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	defer func() { cancel(); <-done }()
	waitStatus(t, o.Socket, func(*client.Status) bool { return true })

	before := goroutines()
	if err := Run(context.Background(), o); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	if left := leaked(before); len(left) > 0 {
		t.Errorf("%d goroutines outlived the refused Run:\n\n%s", len(left), strings.Join(left, "\n\n"))
	}
	waitStatus(t, o.Socket, func(*client.Status) bool { return true })
}

// A second Run on the same keychain, on a socket of its own, is refused at
// once, naming the first agent's pid and socket; once the first stops, the
// keychain is free again. Another keychain is not held up.
func TestRunOneAgentPerKeychain(t *testing.T) {
	o, dir := testOptions(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	waitStatus(t, o.Socket, func(*client.Status) bool { return true })

	second := o
	second.Socket = filepath.Join(dir, "other", "agent.sock")
	err := Run(context.Background(), second)
	if !errors.Is(err, ErrKeychainBusy) || !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run on another socket = %v, want ErrKeychainBusy", err)
	}
	for _, want := range []string{"pid " + strconv.Itoa(os.Getpid()), "socket " + o.Socket} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("second Run = %q, want it to name %q", err, want)
		}
	}
	if _, err := os.Lstat(second.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused agent left a socket: %v", err)
	}

	// Another keychain (another file keyring) starts beside it.
	third := second
	third.KeyringDir = filepath.Join(dir, "state", "keyring2")
	ctx3, cancel3 := context.WithCancel(context.Background())
	done3 := make(chan error, 1)
	go func() { done3 <- Run(ctx3, third) }()
	waitStatus(t, third.Socket, func(*client.Status) bool { return true })
	cancel3()
	if err := <-done3; err != nil {
		t.Errorf("Run on another keychain = %v", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("first Run = %v", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- Run(ctx2, second) }()
	waitStatus(t, second.Socket, func(*client.Status) bool { return true })
	cancel2()
	if err := <-done2; err != nil {
		t.Errorf("Run after the first stopped = %v", err)
	}
}

// logrotate's way: rename the audit log, then SIGHUP. The agent writes the
// next hand-out into a new audit.log, and a config's [audit] max_size makes
// it rotate on its own.
func TestRunReopensTheAuditLog(t *testing.T) {
	o, _ := testOptions(t)
	o.GitHubAPI = "http://127.0.0.1:1"
	reload := make(chan os.Signal, 1)
	o.Reload = reload
	if err := os.MkdirAll(filepath.Dir(o.ConfigPath), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(o.ConfigPath, []byte("[audit]\nmax_size = \"4KB\"\nkeep = 100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	defer func() { cancel(); <-done }()
	waitStatus(t, o.Socket, func(s *client.Status) bool { return !s.Locked })

	const canary = "ghp_canaryRUNAUDIT0000000000000000wxyz"
	if r, err := client.Call(o.Socket, &client.Request{Op: client.OpAdd, Name: "personal",
		Meta: &client.TokenMeta{Hosts: []string{"github.com"}}, Secret: client.NewSecret(canary)}); err != nil || r.Code != "" {
		t.Fatalf("add: %+v, %v", r, err)
	}
	get := func(path string) {
		t.Helper()
		r, err := client.Call(o.Socket, &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: path}})
		if err != nil || r.Secret.IsZero() {
			t.Fatalf("get: %+v, %v", r, err)
		}
		r.Secret.Wipe()
	}
	get("before/rename.git")
	if err := os.Rename(o.AuditPath, o.AuditPath+".old"); err != nil {
		t.Fatal(err)
	}
	reload <- syscall.SIGHUP
	// The reopen and the config load both run on the signal; a new file
	// at the path says the reopen is done.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(o.AuditPath); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new audit.log after SIGHUP")
		}
		time.Sleep(10 * time.Millisecond)
	}
	get("after/rename.git")
	old, _ := os.ReadFile(o.AuditPath + ".old")
	cur, _ := os.ReadFile(o.AuditPath)
	if !strings.Contains(string(old), "before/rename") || strings.Contains(string(old), "after/rename") || !strings.Contains(string(cur), "after/rename") {
		t.Errorf("after rename and SIGHUP: old file %q, new file %q; want the second get in the new one", old, cur)
	}

	for i := range 100 {
		get("load/" + strconv.Itoa(i) + ".git")
	}
	if _, err := os.Stat(audit.RotatedName(o.AuditPath, 1)); err != nil {
		t.Errorf("100 gets with max_size 4KB: %v, want a rotated file", err)
	}
	n := 0
	r, err := audit.OpenReader(o.AuditPath, audit.Filter{Op: "get", Decision: audit.Granted})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		line, err := r.Next()
		if err != nil {
			break
		}
		if strings.Contains(string(line), canary) {
			t.Fatal("the audit log holds the secret")
		}
		n++
	}
	if n != 101 { // the first get is in audit.log.old
		t.Errorf("read %d granted gets across the rotated files, want 101", n)
	}
}
