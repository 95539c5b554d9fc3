package agent

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/internal/bustest"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/vault"
)

const canary = "ghp_canaryAGENT000000000000000000wxyz"

var me = peercred.Cred{UID: os.Getuid(), PID: os.Getpid()}

type fixture struct {
	a     *Agent
	dir   string
	audit string
	logs  *observer.ObservedLogs
	now   time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	f.audit = filepath.Join(f.dir, "audit.log")
	alog, err := audit.Open(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close() })
	core, logs := observer.New(zap.DebugLevel)
	f.logs = logs
	// GitHubAPI: a closed port refuses at once, where api.github.com would
	// be a DNS lookup this machine cannot make; tests with a fake API set
	// their own.
	f.a = New(Config{Backend: "file", Dir: filepath.Join(f.dir, "keyring"), Passphrase: client.NewSecret("pw"), GitHubAPI: "http://127.0.0.1:1",
		Audit: alog, Log: zap.New(core), Now: func() time.Time { return f.now }})
	if err := f.a.Start(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) do(t *testing.T, req *client.Request) *client.Response {
	t.Helper()
	return f.a.Handle(t.Context(), me, req)
}

func (f *fixture) add(t *testing.T, name, secret string, hosts ...string) {
	t.Helper()
	if r := f.do(t, &client.Request{Op: client.OpAdd, Name: name, Meta: &client.TokenMeta{Hosts: hosts}, Secret: client.NewSecret(secret)}); r.Code != "" {
		t.Fatalf("add %s: %s %s", name, r.Code, r.Error)
	}
}

func get(host, path string) *client.Request {
	return &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: host, Path: path}}
}

// noCanary checks every place a secret could leak to.
func (f *fixture) noCanary(t *testing.T, resps ...*client.Response) {
	t.Helper()
	b, _ := os.ReadFile(f.audit)
	if strings.Contains(string(b), "canary") {
		t.Errorf("audit log leaks the secret:\n%s", b)
	}
	for _, e := range f.logs.All() {
		if strings.Contains(fmt.Sprintf("%s %v", e.Message, e.ContextMap()), "canary") {
			t.Errorf("debug log leaks the secret: %s %v", e.Message, e.ContextMap())
		}
	}
	for _, r := range resps {
		if strings.Contains(fmt.Sprintf("%v %+v %#v", r, r, r), "canary") {
			t.Errorf("printed response leaks the secret: %+v", r)
		}
	}
}

func TestGetEraseLockUnlock(t *testing.T) {
	f := newFixture(t)
	f.add(t, "personal", canary, "github.com")
	r := f.do(t, get("github.com", "acme/app.git"))
	if r.Code != "" || r.Secret.Reveal() != canary || r.Username != DefaultUsername || r.Token != "personal" {
		t.Fatalf("get = %+v", r)
	}

	// git's erase after a 401 never deletes: the token is kept, marked
	// suspect, and the helper is told. While it is re-validated (the API
	// holds the answer until release is closed), it answers nothing.
	release := make(chan struct{})
	var asked atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		<-release
		http.Error(w, `{"message":"Server Error"}`, http.StatusInternalServerError)
	}))
	defer api.Close()
	f.a.cfg.GitHubAPI = api.URL
	erase := &client.Request{Op: client.OpErase, Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git",
		Username: DefaultUsername, PasswordFP: client.NewSecret(canary).Fingerprint()}}
	er := f.do(t, erase)
	if er.Code != "" || len(er.Warnings) != 1 || !strings.Contains(er.Warnings[0], "keyfob rotate personal") {
		t.Fatalf("erase = %+v", er)
	}
	l := f.do(t, &client.Request{Op: client.OpList})
	if len(l.Tokens) != 1 || l.Tokens[0].State != StateSuspect || l.Tokens[0].Masked != "ghp_****wxyz" {
		t.Fatalf("list after erase = %+v", l.Tokens)
	}
	if r := f.do(t, get("github.com", "")); r.Code != client.CodeNotFound || !r.Secret.IsZero() || !strings.Contains(r.Error, "re-validated") {
		t.Fatalf("get of a suspect token = %+v, want nothing while it is re-validated", r)
	}
	// Rejections while the first re-validation runs start none.
	for range 5 {
		f.do(t, erase)
	}
	close(release)
	f.a.Wait()
	if n := asked.Load(); n != 1 {
		t.Errorf("six rejections asked the API %d times, want once", n)
	}
	// The API could not say: the token is served again, the rejection kept.
	if r := f.do(t, get("github.com", "")); r.Secret.Reveal() != canary {
		t.Fatalf("token after an inconclusive re-validation = %+v, want it served", r)
	}

	held := f.a.vault.Snapshot().Tokens["personal"]
	f.do(t, &client.Request{Op: client.OpLock})
	if _, ok := held.Secret(); ok || len(f.a.vault.Snapshot().Tokens) != 0 {
		t.Fatal("lock left the secret in memory")
	}
	if r.Secret.Reveal() != canary {
		t.Fatal("lock reached an answer already handed out")
	}
	if r := f.do(t, get("github.com", "")); r.Code != client.CodeLocked {
		t.Fatalf("get while locked = %+v, want locked", r)
	}
	if r := f.do(t, &client.Request{Op: client.OpUnlock, Secret: client.NewSecret("wrong")}); r.Code != client.CodeDenied {
		t.Fatalf("unlock with a wrong passphrase = %+v, want denied", r)
	}
	if r := f.do(t, &client.Request{Op: client.OpUnlock, Secret: client.NewSecret("pw")}); r.Code != "" || r.Status.Tokens != 1 {
		t.Fatalf("unlock = %+v", r)
	}
	r2 := f.do(t, get("github.com", ""))
	if r2.Secret.Reveal() != canary {
		t.Fatalf("get after unlock = %+v", r2)
	}
	f.noCanary(t, r, er, l)
	b, _ := os.ReadFile(f.audit)
	for _, want := range []string{`"op":"add","decision":"changed"`, `"op":"get","decision":"granted"`, `"op":"erase","decision":"erased"`,
		`"op":"get","decision":"locked"`, `"op":"unlock","decision":"failed","reason":"wrong passphrase"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

func TestAddValidation(t *testing.T) {
	f := newFixture(t)
	f.add(t, "personal", canary, "github.com")
	for _, tc := range []struct {
		req  *client.Request
		code string
	}{
		{&client.Request{Op: client.OpAdd, Name: "personal", Meta: &client.TokenMeta{Hosts: []string{"github.com"}}, Secret: client.NewSecret(canary)}, client.CodeBadRequest},
		{&client.Request{Op: client.OpAdd, Name: "../x", Meta: &client.TokenMeta{Hosts: []string{"github.com"}}, Secret: client.NewSecret(canary)}, client.CodeBadRequest},
		{&client.Request{Op: client.OpAdd, Name: "nohost", Secret: client.NewSecret(canary)}, client.CodeBadRequest},
		{&client.Request{Op: client.OpAdd, Name: "badhost", Meta: &client.TokenMeta{Hosts: []string{"https://github.com/"}}, Secret: client.NewSecret(canary)}, client.CodeBadRequest},
		{&client.Request{Op: client.OpAdd, Name: "empty", Meta: &client.TokenMeta{Hosts: []string{"github.com"}}}, client.CodeBadRequest},
		{&client.Request{Op: client.OpRotate, Name: "missing", Secret: client.NewSecret(canary)}, client.CodeNotFound},
		{&client.Request{Op: client.OpRemove, Name: "missing"}, client.CodeNotFound},
		{&client.Request{Op: client.OpToken, Name: "missing"}, client.CodeNotFound},
	} {
		r := f.do(t, tc.req)
		if r.Code != tc.code {
			t.Errorf("%s %q = %q (%s), want %q", tc.req.Op, tc.req.Name, r.Code, r.Error, tc.code)
		}
		if strings.Contains(r.Error+r.Hint, "canary") {
			t.Errorf("error leaks the secret: %s", r.Error)
		}
	}
	f.noCanary(t)
}

func TestRotationAndExpiryWarnings(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, &client.Request{Op: client.OpAdd, Name: "personal", Secret: client.NewSecret(canary),
		Meta: &client.TokenMeta{Hosts: []string{"github.com"}, Expires: f.now.Add(60 * 24 * time.Hour)}})
	if r.Code != "" {
		t.Fatal(r.Error)
	}
	if r := f.do(t, get("github.com", "")); len(r.Warnings) != 0 {
		t.Fatalf("fresh token warned: %v", r.Warnings)
	}
	f.now = f.now.Add(31 * 24 * time.Hour)
	r = f.do(t, get("github.com", ""))
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "rotation-due") || !strings.Contains(r.Warnings[0], "keyfob rotate personal") {
		t.Fatalf("warnings after 31 days = %v", r.Warnings)
	}
	if r := f.do(t, get("github.com", "")); len(r.Warnings) != 0 {
		t.Fatalf("warned twice within the hour: %v", r.Warnings)
	}
	f.now = f.now.Add(25 * 24 * time.Hour)
	r = f.do(t, get("github.com", ""))
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "expiring") {
		t.Fatalf("warnings 4 days before expiry = %v", r.Warnings)
	}
	if r.Expiry != f.now.Add(4*24*time.Hour).Unix() {
		t.Fatalf("expiry = %d", r.Expiry)
	}
}

func TestAuditFailureRefusesHandOut(t *testing.T) {
	f := newFixture(t)
	f.add(t, "personal", canary, "github.com")
	f.a.cfg.Audit.Close() // the audit log can no longer be written
	r := f.do(t, get("github.com", ""))
	if r.Code != client.CodeUnavailable || !r.Secret.IsZero() || !strings.Contains(r.Error, "audit") {
		t.Fatalf("get with a broken audit log = %+v, want unavailable and no secret", r)
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"ghp_abcdefghijklmnopqrstuvwxyz": "ghp_****wxyz",
		"github_pat_11AAAAAAA0abcdWXYZ":  "github_pat_****WXYZ",
		"plainsecretvalue1234":           "****1234",
		"short":                          "****",
	} {
		if got := Mask(client.NewSecret(in)); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSecretServiceRestart: with a real gnome-keyring, a token added by one
// agent is served by the next one after a restart, read once at unlock.
func TestSecretServiceRestart(t *testing.T) {
	if !bustest.InBus() {
		bustest.Run(t, "TestSecretServiceRestart")
		return
	}
	dir := t.TempDir()
	alog, err := audit.Open(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close()
	first := New(Config{Backend: "secret-service", Audit: alog})
	if err := first.Start(); err != nil {
		t.Fatalf("Start = %v", err)
	}
	r := first.Handle(t.Context(), me, &client.Request{Op: client.OpAdd, Name: "personal",
		Meta: &client.TokenMeta{Hosts: []string{"github.com"}}, Secret: client.NewSecret(canary)})
	if r.Code != "" {
		t.Fatalf("add: %s", r.Error)
	}
	first.Lock() // the agent stops
	second := New(Config{Backend: "secret-service", Audit: alog})
	if err := second.Start(); err != nil {
		t.Fatalf("second Start = %v", err)
	}
	r = second.Handle(t.Context(), me, get("github.com", "acme/app.git"))
	if r.Code != "" || r.Secret.Reveal() != canary {
		t.Fatalf("get after restart = %+v", r)
	}
}

// secretOf reads the secret e holds, "" once it is wiped.
func secretOf(e *vault.Entry) string {
	s, ok := e.Secret()
	if !ok {
		return ""
	}
	defer s.Wipe()
	return s.Reveal()
}

// A token's warning in the log carries the token and its state as fields,
// so the journal can select it (journalctl TOKEN=personal STATE=...), and
// never the secret.
func TestCheckWarningsAreStructured(t *testing.T) {
	f := newFixture(t)
	f.add(t, "personal", canary, "github.com")
	f.now = f.now.Add(31 * 24 * time.Hour)
	if w := f.a.Check(); len(w) != 1 {
		t.Fatalf("Check = %q, want one warning", w)
	}
	got := f.logs.FilterMessageSnippet("token personal is rotation-due").All()
	if len(got) != 1 {
		t.Fatalf("%d warnings logged about personal, want 1", len(got))
	}
	fields := got[0].ContextMap()
	if fields[LogToken] != "personal" || fields[LogState] != StateRotationDue || fields[LogFP] == "" {
		t.Errorf("warning fields = %v, want token personal, state %s and a fingerprint", fields, StateRotationDue)
	}
	for k, v := range fields {
		if strings.Contains(fmt.Sprint(v), "canary") {
			t.Errorf("field %s holds the secret", k)
		}
	}
}
