package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github"
)

// TestShutdown: a re-validation hung on its API is cancelled, the cached
// App tokens are revoked, then the agent locks; Shutdown returns without
// waiting for the API.
func TestShutdown(t *testing.T) {
	f := newAppFixture(t)
	hung, cancelled := make(chan struct{}), make(chan struct{})
	ghe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(hung)
		<-r.Context().Done()
		close(cancelled)
	}))
	defer ghe.Close()
	f.a.SetGitHubHosts([]github.Host{{Name: "ghe.example", API: ghe.URL}})

	f.addApp(t, "ci", client.AppSpec{AppID: 101, InstallationID: 42, NoVerify: true})
	if r := f.do(t, &client.Request{Op: client.OpToken, Name: "ci"}); r.Code != "" {
		t.Fatalf("token ci = %+v", r)
	}
	if r := f.do(t, &client.Request{Op: client.OpAdd, Name: "ent", Meta: &client.TokenMeta{Hosts: []string{"ghe.example"}, NoVerify: true},
		Secret: client.NewSecret(canary)}); r.Code != "" {
		t.Fatalf("add = %+v", r)
	}
	held := f.a.vault.Snapshot().Tokens["ent"]
	er := f.do(t, &client.Request{Op: client.OpErase, Cred: &client.Credential{Protocol: "https", Host: "ghe.example",
		Username: DefaultUsername, PasswordFP: client.NewSecret(canary).Fingerprint()}})
	if er.Code != "" {
		t.Fatalf("erase = %+v", er)
	}
	<-hung

	f.a.Shutdown(t.Context())
	if held.Revalidating.Load() {
		t.Error("Shutdown returned with the re-validation still running: it was not cancelled")
	}
	<-cancelled
	if m := f.api.Mints(); len(m) != 1 || !m[0].Revoked {
		t.Errorf("mints after shutdown = %+v, want the cached token revoked", m)
	}
	if revs := f.auditLines(t, "revoke"); len(revs) != 1 || revs[0]["reason"] != "agent stopped" {
		t.Errorf("revoke lines at shutdown = %v, want one, for the agent stopping", revs)
	}
	if v := f.auditLines(t, "validate"); len(v) != 0 {
		t.Errorf("a re-validation cut short by shutdown was recorded: %v", v)
	}
	if s := f.a.vault.Snapshot(); !s.Locked() || len(s.Tokens) != 0 {
		t.Error("shutdown left the agent unlocked")
	}
	if secretOf(held) != "" {
		t.Error("shutdown left the secret in memory")
	}
	if r := f.a.Handle(context.Background(), me, get("ghe.example", "")); r.Code != client.CodeLocked {
		t.Errorf("get after shutdown = %+v, want locked", r)
	}
}

// TestShutdownSaysAgentStopped: a stop logs its own reason, also after a
// keyfob lock, and leaves it as the reason the agent is locked; nothing
// the stop writes says keyfob lock.
func TestShutdownSaysAgentStopped(t *testing.T) {
	f := newFixture(t)
	f.add(t, "personal", canary, "github.com")
	if r := f.do(t, &client.Request{Op: client.OpLock}); r.Code != "" {
		t.Fatalf("lock = %+v", r)
	}
	before, _ := os.ReadFile(f.audit)
	f.logs.TakeAll()

	f.a.Shutdown(t.Context())
	var reasons []string
	for _, e := range f.logs.All() {
		if strings.Contains(fmt.Sprint(e.Message, e.ContextMap()), "keyfob lock") {
			t.Errorf("shutdown logged %q %v, which names keyfob lock", e.Message, e.ContextMap())
		}
		if e.Message == "locked" {
			reasons = append(reasons, fmt.Sprint(e.ContextMap()["reason"]))
		}
	}
	if len(reasons) != 1 || reasons[0] != "agent stopped" {
		t.Errorf("shutdown logged locked with reasons %q, want [agent stopped]", reasons)
	}
	after, _ := os.ReadFile(f.audit)
	if added := strings.TrimPrefix(string(after), string(before)); strings.Contains(added, "keyfob lock") {
		t.Errorf("shutdown audited %q, which names keyfob lock", added)
	}
	if s := f.a.vault.Snapshot(); s.LockErr != "agent stopped" {
		t.Errorf("locked after shutdown because %q, want agent stopped", s.LockErr)
	}
}
