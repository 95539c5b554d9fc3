package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// rawKeychainErr is what a Secret Service keychain says when its daemon is
// gone: a D-Bus name and a path, neither for a peer.
const rawKeychainErr = "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files (/run/user/1000/bus)"

// brokenKeychain fails its reads or writes with rawKeychainErr on demand.
type brokenKeychain struct {
	vault.Keychain
	reads, writes *atomic.Bool
}

func (k brokenKeychain) Load() ([]store.Token, []error, error) {
	if k.reads.Load() {
		return nil, nil, errors.New(rawKeychainErr)
	}
	return k.Keychain.Load()
}

func (k brokenKeychain) Put(t store.Token) error {
	if k.writes.Load() {
		return fmt.Errorf("write item: %w", errors.New(rawKeychainErr))
	}
	return k.Keychain.Put(t)
}

// TestKeychainErrorStaysInTheLog: a keychain write or an unlock that
// fails answers that request with keyfob's fixed words, and the keychain's
// own text goes to the agent's log. The keychain's load state is another
// thing: while it cannot be read, status and the locked answers of the
// agent's own socket say why in the backend's words, cleaned, with a fix
// (the helper's warning names the cause); a grant's socket and the audit
// line get keyfob's fixed words only.
func TestKeychainErrorStaysInTheLog(t *testing.T) {
	dir := t.TempDir()
	alog, err := audit.Open(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close()
	core, logs := observer.New(zap.DebugLevel)
	var reads, writes atomic.Bool
	a := New(Config{Backend: "file", Dir: filepath.Join(dir, "keyring"), Passphrase: client.NewSecret("pw"), GitHubAPI: "http://127.0.0.1:1",
		Audit: alog, Log: zap.New(core), Now: func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) },
		WrapKeychain: func(k vault.Keychain) vault.Keychain { return brokenKeychain{k, &reads, &writes} }})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	do := func(req *client.Request) *client.Response { return a.Handle(t.Context(), me, req) }
	leaks := func(what string, r *client.Response) {
		t.Helper()
		if s := fmt.Sprintf("%+v %+v", r, r.Status); strings.Contains(s, "freedesktop") || strings.Contains(s, "/run/user") {
			t.Errorf("%s answer carries the keychain's own text: %s", what, s)
		}
	}
	logged := func(what string) {
		t.Helper()
		for _, e := range logs.All() {
			if strings.Contains(fmt.Sprint(e.ContextMap()), rawKeychainErr) {
				return
			}
		}
		t.Errorf("after %s, no log line has the keychain's error %q", what, rawKeychainErr)
	}

	writes.Store(true)
	r := do(&client.Request{Op: client.OpAdd, Name: "work", Meta: &client.TokenMeta{Hosts: []string{"github.com"}, NoVerify: true},
		Secret: client.NewSecret(canary)})
	if r.Code != client.CodeUnavailable {
		t.Errorf("add on a failing keychain = %+v, want %s", r, client.CodeUnavailable)
	}
	leaks("add", r)
	logged("add")

	if r := do(&client.Request{Op: client.OpLock}); r.Code != "" {
		t.Fatalf("lock = %+v", r)
	}
	logs.TakeAll()
	reads.Store(true)
	r = do(&client.Request{Op: client.OpUnlock, Secret: client.NewSecret("pw")})
	if r.Code != client.CodeUnavailable || !strings.Contains(r.Error, "keychain unavailable") {
		t.Errorf("unlock on a failing keychain = %+v, want %s, keychain unavailable", r, client.CodeUnavailable)
	}
	leaks("unlock", r)
	logged("unlock")
	st := do(&client.Request{Op: client.OpStatus})
	const head = "the file keychain cannot be read"
	if st.Status == nil || !st.Status.Locked || st.Status.KeychainLocked || st.Status.LockError != head+": "+rawKeychainErr || st.Status.LockHint == "" {
		t.Fatalf("status after a failed unlock = %+v, want locked, the keychain's words and a fix", st.Status)
	}
	g := do(get("github.com", "acme/app.git"))
	if g.Code != client.CodeLocked || g.Error != "locked: "+head+": "+rawKeychainErr || g.Hint != st.Status.LockHint {
		t.Errorf("get after a failed unlock = %+v, want locked, the keychain's words and the fix", g)
	}
	gr := a.Resolve(t.Context(), me, get("github.com", "acme/app.git"), client.OpGet, "sandbox", "work")
	if gr.Code != client.CodeLocked || gr.Error != "locked: "+head {
		t.Errorf("get through a grant after a failed unlock = %+v, want locked, fixed words", gr)
	}
	leaks("grant get", gr)
	b, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lockedLines := 0
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, `"`+audit.Locked+`"`) {
			continue
		}
		lockedLines++
		if strings.Contains(l, "freedesktop") || !strings.Contains(l, head) {
			t.Errorf("the audit line of a locked get = %s, want keyfob's words only", l)
		}
	}
	if lockedLines != 2 {
		t.Errorf("%d audit lines of a locked get, want 2:\n%s", lockedLines, b)
	}
}

// TestFailureWords: an OS error's text stays in the log, keyfob's own
// words reach the peer.
func TestFailureWords(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	a := &Agent{log: zap.New(core)}
	pathErr := &fs.PathError{Op: "mkdir", Path: "/run/user/1000/keyfob/grants/x", Err: syscall.EACCES}
	r := a.Failure(client.CodeUnavailable, "grant directory /g/x", fmt.Errorf("create: %w", pathErr))
	if r.Error != "grant directory /g/x: permission denied" || r.Hint != HintLog || strings.Contains(r.Error, "/run/user") {
		t.Errorf("Failure(path error) = %+v, want fixed words and HintLog", r)
	}
	if logs.Len() != 1 || !strings.Contains(fmt.Sprint(logs.All()[0].ContextMap()), "/run/user/1000/keyfob/grants/x") {
		t.Errorf("Failure(path error) logged %v, want the error's text", logs.All())
	}
	own := errors.New("/g/x exists and is not a socket: move it away and retry")
	if r := a.Failure(client.CodeUnavailable, "grant socket /g/x", own); r.Error != "grant socket /g/x: "+own.Error() {
		t.Errorf("Failure(own words) = %+v, want them passed on", r)
	}
	var v struct{ N int }
	jerr := json.Unmarshal([]byte(`{"N":"x"}`), &v)
	if got := BadRequestText(jerr); strings.Contains(got, "Go struct") || strings.Contains(got, "int") {
		t.Errorf("BadRequestText(%v) = %q, want no Go type names", jerr, got)
	}
	if got := BadRequestText(errors.New("missing op")); got != "missing op" {
		t.Errorf("BadRequestText(missing op) = %q", got)
	}
}
