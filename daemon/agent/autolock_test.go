package agent

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
)

// sessionAgent is an unlocked file-backend agent with a settable clock that
// records what OnChange reports.
type sessionAgent struct {
	a       *Agent
	mu      sync.Mutex
	now     time.Time
	changes []string
}

func newSessionAgent(t *testing.T, autoLock time.Duration) *sessionAgent {
	t.Helper()
	dir := t.TempDir()
	alog, err := audit.Open(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close() })
	s := &sessionAgent{now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	s.a = New(Config{Backend: "file", Dir: filepath.Join(dir, "keyring"), Passphrase: client.NewSecret("pw"),
		Audit: alog, AutoLock: autoLock,
		Now: func() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now },
		OnChange: func(summary string) {
			s.mu.Lock()
			s.changes = append(s.changes, summary)
			s.mu.Unlock()
		}})
	if err := s.a.Start(); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *sessionAgent) advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
}

func (s *sessionAgent) do(t *testing.T, req *client.Request) *client.Response {
	t.Helper()
	return s.a.Handle(t.Context(), peercred.Cred{UID: 1000, PID: 1}, req)
}

func TestOnChangeFollowsUnlockLockAndTokens(t *testing.T) {
	s := newSessionAgent(t, 0)
	if r := s.do(t, &client.Request{Op: client.OpAdd, Name: "personal", Meta: &client.TokenMeta{Hosts: []string{"github.com"}},
		Secret: client.NewSecret("ghp_sessionTOKEN00000000000000000wxyz")}); r.Code != "" {
		t.Fatalf("add: %s %s", r.Code, r.Error)
	}
	s.do(t, &client.Request{Op: client.OpLock})
	s.do(t, &client.Request{Op: client.OpUnlock, Secret: client.NewSecret("pw")})
	s.do(t, &client.Request{Op: client.OpRemove, Name: "personal"})
	want := []string{"unlocked, 0 tokens", "unlocked, 1 tokens", "locked", "unlocked, 1 tokens", "unlocked, 0 tokens"}
	if !slices.Equal(s.changes, want) {
		t.Errorf("OnChange saw %q, want %q", s.changes, want)
	}
}

func TestAutoLock(t *testing.T) {
	s := newSessionAgent(t, 15*time.Minute)
	get := &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "github.com"}}
	s.addToken(t)

	s.advance(10 * time.Minute)
	if r := s.do(t, get); r.Secret.IsZero() { // use: the idle time starts again
		t.Fatalf("get = %q %q, want a token", r.Code, r.Error)
	}
	s.advance(10 * time.Minute)
	s.do(t, &client.Request{Op: client.OpStatus}) // not use
	if s.a.lockIfIdle() {
		t.Fatal("locked 10 minutes after the last use, want 15")
	}
	s.advance(5 * time.Minute)
	if !s.a.lockIfIdle() {
		t.Fatal("still unlocked 15 minutes after the last use")
	}
	st := s.do(t, &client.Request{Op: client.OpStatus}).Status
	if !st.Locked || st.LockError != "locked after 15m0s idle" {
		t.Errorf("status after auto-lock = locked %v (%q), want locked after 15m0s idle", st.Locked, st.LockError)
	}
	if r := s.do(t, get); r.Code != client.CodeLocked {
		t.Errorf("get after auto-lock = %q, want %q", r.Code, client.CodeLocked)
	}
	if s.a.lockIfIdle() {
		t.Error("locked a locked agent again")
	}
	if last := s.changes[len(s.changes)-1]; last != "locked" {
		t.Errorf("OnChange last saw %q, want locked", last)
	}
}

func (s *sessionAgent) addToken(t *testing.T) {
	t.Helper()
	if r := s.do(t, &client.Request{Op: client.OpAdd, Name: "personal", Meta: &client.TokenMeta{Hosts: []string{"github.com"}},
		Secret: client.NewSecret("ghp_sessionTOKEN00000000000000000wxyz")}); r.Code != "" {
		t.Fatalf("add: %s %s", r.Code, r.Error)
	}
}

// TestAutoLockIgnoresPolling polls the agent the way a status bar, doctor
// or a grant's which do, every minute, and the agent still locks 15
// minutes after the last hand-out.
func TestAutoLockIgnoresPolling(t *testing.T) {
	s := newSessionAgent(t, 15*time.Minute)
	s.addToken(t)
	polls := []*client.Request{
		{Op: client.OpPing}, {Op: client.OpStatus}, {Op: client.OpList},
		{Op: client.OpWhich, Cred: &client.Credential{Protocol: "https", Host: "github.com"}},
		{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "example.org"}}, // no match: nothing handed out
		{Op: "no-such-op"},
	}
	for i := range 15 {
		if s.a.lockIfIdle() {
			t.Fatalf("locked %d minutes after the last change, want 15", i)
		}
		s.advance(time.Minute)
		for _, r := range polls {
			s.do(t, r)
		}
	}
	if !s.a.lockIfIdle() {
		t.Fatal("still unlocked 15 minutes after the last change, polled every minute")
	}
}

func TestAutoLockOff(t *testing.T) {
	s := newSessionAgent(t, 0)
	s.advance(365 * 24 * time.Hour)
	if s.a.lockIfIdle() {
		t.Fatal("locked with AutoLock 0")
	}
	s.a.RunAutoLock(t.Context()) // returns at once
}
