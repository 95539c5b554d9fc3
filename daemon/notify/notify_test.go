package notify

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// listen makes a notify socket like systemd's and points NOTIFY_SOCKET at it.
func listen(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return c
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("read notify socket: %v", err)
	}
	return string(buf[:n])
}

func TestMessages(t *testing.T) {
	c := listen(t)
	for _, tc := range []struct {
		name string
		send func() error
		want string
	}{
		{"Ready", func() error { return Ready("unlocked, 3 tokens") }, "READY=1\nSTATUS=unlocked, 3 tokens"},
		{"Status", func() error { return Status("locked\n(by keyfob lock)") }, "STATUS=locked (by keyfob lock)"},
		{"Stopping", Stopping, "STOPPING=1\nSTATUS=stopping"},
	} {
		if err := tc.send(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := read(t, c); got != tc.want {
			t.Errorf("%s sent %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestOutsideSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	if err := Ready("locked"); err != nil {
		t.Errorf("Ready without NOTIFY_SOCKET = %v, want nil", err)
	}
	if d, err := WatchdogInterval(); d != 0 || err != nil {
		t.Errorf("WatchdogInterval() = %v, %v; want 0, nil", d, err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
	}{
		{"30000000", "", 15 * time.Second},
		{"30000000", strconv.Itoa(os.Getpid()), 15 * time.Second},
		{"30000000", strconv.Itoa(os.Getpid() + 1), 0}, // meant for another process
	} {
		t.Setenv("WATCHDOG_USEC", tc.usec)
		t.Setenv("WATCHDOG_PID", tc.pid)
		if got, err := WatchdogInterval(); got != tc.want || err != nil {
			t.Errorf("WatchdogInterval() with WATCHDOG_USEC=%s WATCHDOG_PID=%s = %v, %v; want %v", tc.usec, tc.pid, got, err, tc.want)
		}
	}
}

func TestWatchdogPings(t *testing.T) {
	c := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Watchdog(ctx, time.Millisecond, func() bool { return true }) }()
	for i := 0; i < 2; i++ {
		if got := read(t, c); got != "WATCHDOG=1" {
			t.Fatalf("ping %d = %q, want WATCHDOG=1", i, got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Watchdog = %v", err)
	}
}

// An unhealthy agent sends no ping.
func TestWatchdogWithholdsPingWhenUnhealthy(t *testing.T) {
	c := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	asked := make(chan struct{}, 100)
	healthy := func() bool {
		asked <- struct{}{}
		return false
	}
	done := make(chan error, 1)
	go func() { done <- Watchdog(ctx, time.Millisecond, healthy) }()
	for i := 0; i < 3; i++ {
		<-asked
	}
	cancel()
	<-done
	_ = c.SetReadDeadline(time.Now())
	if n, err := c.Read(make([]byte, 64)); err == nil {
		t.Fatalf("unhealthy agent pinged (%d bytes)", n)
	}
}

func TestFieldName(t *testing.T) {
	for in, want := range map[string]string{
		"token":      "TOKEN",
		"peer.exe":   "PEER_EXE",
		"ping_every": "PING_EVERY",
		"message":    "KEYFOB_MESSAGE",
		"priority":   "KEYFOB_PRIORITY",
		"_pid":       "KEYFOB_PID",
		"2fa":        "KEYFOB_2FA",
		"systemd_x":  "KEYFOB_SYSTEMD_X",
		"":           "KEYFOB_",
	} {
		if got := FieldName(in); got != want {
			t.Errorf("FieldName(%q) = %q, want %q", in, got, want)
		}
	}
}

type sent struct {
	msg  string
	pri  journal.Priority
	vars map[string]string
}

func TestJournalCore(t *testing.T) {
	var got []sent
	core := &journalCore{LevelEnabler: zapcore.InfoLevel, fields: map[string]string{},
		send: func(msg string, p journal.Priority, vars map[string]string) error {
			got = append(got, sent{msg, p, vars})
			return nil
		}}
	log := zap.New(core).Named("agent").With(zap.String("backend", "file"))
	log.Debug("not sent")
	log.Info("serving", zap.String("socket", "/run/user/1000/keyfob/agent.sock"), zap.Int("tokens", 3), zap.Duration("ping_every", 15*time.Second))
	log.Warn("refused peer", zap.Int("uid", 1001), zap.String("message", "a field, not the message"))
	if len(got) != 2 {
		t.Fatalf("sent %d entries, want 2 (debug is below the level): %+v", len(got), got)
	}
	want := map[string]string{
		"SYSLOG_IDENTIFIER": "keyfob", "LOGGER": "agent", "BACKEND": "file",
		"SOCKET": "/run/user/1000/keyfob/agent.sock", "TOKENS": "3", "PING_EVERY": "15s",
	}
	if got[0].msg != "serving" || got[0].pri != journal.PriInfo {
		t.Errorf("entry 0 = %q priority %d, want serving priority %d", got[0].msg, got[0].pri, journal.PriInfo)
	}
	for k, v := range want {
		if got[0].vars[k] != v {
			t.Errorf("entry 0 field %s = %q, want %q", k, got[0].vars[k], v)
		}
	}
	if got[1].pri != journal.PriWarning || got[1].vars["UID"] != "1001" || got[1].vars["KEYFOB_MESSAGE"] != "a field, not the message" {
		t.Errorf("entry 1 = %+v", got[1])
	}
	if _, ok := got[1].vars["TOKENS"]; ok {
		t.Errorf("entry 1 carries entry 0's fields: %v", got[1].vars)
	}
}
