package agent

import (
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/policy"
)

const (
	remPass    = "canaryREMEMBERpass"
	remRefresh = "canaryREMEMBERrefresh"
)

func (f *fixture) remember(matches ...string) {
	f.a.SetRoutes(policy.Compile(nil).WithRemember(policy.NewRemember(matches)), "")
}

// store sends git's store as the helper does, then wipes the request's
// secrets as the server does once the request is answered.
func (f *fixture) store(t *testing.T, host, user, pass, refresh string, expiry int64) *client.Response {
	t.Helper()
	req := &client.Request{Op: client.OpStore, Cred: &client.Credential{Protocol: "https", Host: host, Username: user,
		PasswordFP: client.NewSecret(pass).Fingerprint(), PasswordExpiryUTC: expiry},
		Secret: client.NewSecret(pass), Refresh: client.NewSecret(refresh)}
	r := f.do(t, req)
	req.Secret.Wipe()
	req.Refresh.Wipe()
	return r
}

func getUser(host, user string) *client.Request {
	return &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: host, Username: user}}
}

// Only a host [[remember]] names keeps what git stores; the kept copy is
// the agent's own, so the server wiping the request leaves it whole; and
// grants never get a remembered credential.
func TestRememberOptIn(t *testing.T) {
	f := newFixture(t)
	f.remember("gitlab.example.com")
	f.store(t, "other.example.com", "alice", remPass, "", 0)
	if n := len(f.a.vault.Snapshot().Remembered); n != 0 {
		t.Fatalf("store for a host not remembered kept %d credentials", n)
	}
	if r := f.do(t, getUser("other.example.com", "alice")); r.Code != client.CodeNotFound {
		t.Errorf("get(other host) = %+v, want not_found", r)
	}
	f.store(t, "gitlab.example.com", "alice", remPass, remRefresh, 0)
	r := f.do(t, getUser("gitlab.example.com", "alice"))
	if r.Code != "" || !r.Remembered || r.Secret.Reveal() != remPass || r.Refresh.Reveal() != remRefresh || r.Username != "alice" {
		t.Fatalf("get(remembered) = %+v (%q), want alice's password and refresh token", r, r.Secret.Reveal())
	}
	for _, c := range []*client.Credential{
		{Protocol: "http", Host: "gitlab.example.com", Username: "alice"},
		{Protocol: "https", Host: "gitlab.example.com.evil", Username: "alice"},
		{Protocol: "https", Host: "gitlab.example.com", Path: "g/app.git", Username: "alice"},
		{Protocol: "https", Host: "gitlab.example.com", Username: "bob"},
		{Protocol: "https", Host: "gitlab.example.com", EmptyUsername: true},
	} {
		if r := f.do(t, &client.Request{Op: client.OpGet, Cred: c}); !r.Secret.IsZero() || r.Remembered {
			t.Errorf("get(%+v) = %+v, want nothing: another protocol, host, path or user", c, r)
		}
	}
	g := f.a.Resolve(t.Context(), me, getUser("gitlab.example.com", "alice"), client.OpGet, "sandbox", "lab")
	if !g.Secret.IsZero() || g.Remembered {
		t.Errorf("grant get = %+v, want nothing: grants never get remembered credentials", g)
	}
	// Taking the host out of [[remember]] stops it answering.
	f.remember()
	if r := f.do(t, getUser("gitlab.example.com", "alice")); !r.Secret.IsZero() {
		t.Errorf("get after the opt-in ended = %+v, want nothing", r)
	}
	f.noCanary(t, r)
}

// A token for the host answers before a remembered credential.
func TestRememberTokenFirst(t *testing.T) {
	f := newFixture(t)
	f.remember("*")
	f.add(t, "lab", canary, "gitlab.example.com")
	f.store(t, "gitlab.example.com", "alice", remPass, "", 0)
	if r := f.do(t, getUser("gitlab.example.com", "")); r.Secret.Reveal() != canary || r.Remembered {
		t.Errorf("get = %+v, want the token", r)
	}
}

// An expired password is never handed out: with a refresh token, git gets
// the username and refresh token alone (for git-credential-oauth to
// refresh); without one, the credential is dropped.
func TestRememberExpiry(t *testing.T) {
	f := newFixture(t)
	f.remember("gitlab.example.com")
	exp := f.now.Add(time.Hour).Unix()
	f.store(t, "gitlab.example.com", "oauth", remPass+"1", remRefresh, exp)
	f.store(t, "gitlab.example.com", "plain", remPass+"2", "", exp)
	if r := f.do(t, getUser("gitlab.example.com", "oauth")); r.Secret.Reveal() != remPass+"1" || r.Expiry != exp {
		t.Fatalf("get before expiry = %+v, want the password and its expiry", r)
	}
	f.now = f.now.Add(2 * time.Hour)
	r := f.do(t, getUser("gitlab.example.com", "oauth"))
	if !r.Remembered || !r.PasswordExpired || !r.Secret.IsZero() || r.Expiry != 0 || r.Refresh.Reveal() != remRefresh {
		t.Errorf("get(expired, refreshable) = %+v, want the refresh token alone", r)
	}
	if r := f.do(t, getUser("gitlab.example.com", "plain")); !r.Secret.IsZero() || r.Code != client.CodeNotFound {
		t.Errorf("get(expired) = %+v, want not_found", r)
	}
	s := f.a.vault.Snapshot()
	if len(s.Remembered) != 1 || s.RememberedByName("remembered:plain@gitlab.example.com") != nil {
		t.Errorf("after expiry: %d remembered, want the refreshable one only", len(s.Remembered))
	}
	// git-credential-oauth refreshed: git stores the new pair, which
	// replaces the old.
	f.store(t, "gitlab.example.com", "oauth", remPass+"3", remRefresh+"3", f.now.Add(time.Hour).Unix())
	if r := f.do(t, getUser("gitlab.example.com", "oauth")); r.Secret.Reveal() != remPass+"3" || r.Refresh.Reveal() != remRefresh+"3" {
		t.Errorf("get after refresh = %+v, want the new pair", r)
	}
	f.noCanary(t)
}
