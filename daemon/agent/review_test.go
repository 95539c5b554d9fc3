package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
	"github.com/keyfob/keyfob/daemon/policy"
)

// TestRememberedNeverAnswersForTokens: where keyfob's tokens or routes
// have something to say (a route that matched but cannot answer, an
// expired token, an ambiguous host), a remembered credential for the same
// remote answers nothing in their place.
func TestRememberedNeverAnswersForTokens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fixture)
		path  string
	}{
		{"a route naming a missing token", func(f *fixture) {
			f.a.SetRoutes(policy.Compile([]policy.Route{{Match: "gitlab.example.com/acme/*", Token: "gone"}}).WithRemember(policy.NewRemember([]string{"*"})), "")
		}, "acme/app.git"},
		{"an expired token", func(f *fixture) {
			r := f.do(t, &client.Request{Op: client.OpAdd, Name: "old", Secret: client.NewSecret(canary),
				Meta: &client.TokenMeta{Hosts: []string{"gitlab.example.com"}, Expires: f.now.Add(-time.Hour)}})
			if r.Code != "" {
				t.Fatalf("add: %+v", r)
			}
			f.remember("*")
		}, ""},
		{"an ambiguous host", func(f *fixture) {
			f.add(t, "one", canary, "gitlab.example.com")
			f.add(t, "two", "ghp_canaryTWO0000000000000000000000zzzz", "gitlab.example.com")
			f.remember("*")
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tc.setup(f)
			req := &client.Request{Op: client.OpStore, Cred: &client.Credential{Protocol: "https", Host: "gitlab.example.com", Path: tc.path, Username: "alice",
				PasswordFP: client.NewSecret(remPass).Fingerprint()}, Secret: client.NewSecret(remPass)}
			f.do(t, req)
			r := f.do(t, &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "gitlab.example.com", Path: tc.path}})
			if r.Remembered || !r.Secret.IsZero() {
				t.Errorf("get = %+v (remembered %v), want nothing", r, r.Remembered)
			}
		})
	}
}

// TestByNameIsNoBackDoor: keyfob token NAME refuses what a URL would: an
// expired token, an invalid one, one being re-validated.
func TestByNameIsNoBackDoor(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, &client.Request{Op: client.OpAdd, Name: "old", Secret: client.NewSecret(canary),
		Meta: &client.TokenMeta{Hosts: []string{"example.com"}, Expires: f.now.Add(time.Hour)}})
	if r.Code != "" {
		t.Fatalf("add: %+v", r)
	}
	byName := &client.Request{Op: client.OpToken, Name: "old"}
	if r := f.do(t, byName); r.Secret.Reveal() != canary {
		t.Fatalf("token old before it expires = %+v", r)
	}
	f.now = f.now.Add(2 * time.Hour)
	if r := f.do(t, byName); !r.Secret.IsZero() || r.Code != client.CodeNotFound || !strings.Contains(r.Error, "expired") {
		t.Errorf("token old after it expired = %q %q, want not_found naming the expiry", r.Code, r.Error)
	}
}

// TestAppAnswersOnlyThroughItsRoutes: an App that routes narrow
// (permissions, require_repo) is not minted for the whole installation by
// the host's fallback when git sends no path.
func TestAppAnswersOnlyThroughItsRoutes(t *testing.T) {
	f := newAppFixture(t)
	if r := f.addApp(t, "ci", client.AppSpec{AppID: 101, InstallationID: 42, NoVerify: true}); r.Code != "" {
		t.Fatalf("app add: %+v", r)
	}
	f.a.SetRoutes(policy.Compile([]policy.Route{{Match: "github.com/acme/*", Token: "ci", RequireRepo: true,
		Permissions: policy.NewPermissions(map[string]string{"contents": "read"})}}), "")
	before := len(f.api.Mints())
	if r := f.do(t, get("github.com", "")); !r.Secret.IsZero() {
		t.Errorf("get github.com with no path = %+v, want nothing", r)
	}
	if n := len(f.api.Mints()) - before; n != 0 {
		t.Errorf("%d mints for a request with no path, want none", n)
	}
	// Through its route, it mints for the repository, narrowed.
	if r := f.do(t, get("github.com", "acme/app.git")); r.Secret.IsZero() {
		t.Fatalf("get acme/app = %+v, want a minted token", r)
	}
	m := f.api.Mints()[len(f.api.Mints())-1]
	if strings.Join(m.Repositories, ",") != "app" || m.Permissions["contents"] != "read" || len(m.Permissions) != 1 {
		t.Errorf("mint = %+v, want acme/app with contents:read only", m)
	}
}

// TestUnlockKeepsSuspect: unlocking an agent that is already unlocked
// reads the keychain again, and does not clear a token's suspect mark.
func TestUnlockKeepsSuspect(t *testing.T) {
	f := newFixture(t)
	f.add(t, "lab", canary, "gitlab.example.com")
	f.a.vault.Snapshot().Tokens["lab"].Suspect.Store(true)
	if r := f.do(t, &client.Request{Op: client.OpUnlock, Secret: client.NewSecret("pw")}); r.Code != "" {
		t.Fatalf("unlock = %+v", r)
	}
	if r := f.do(t, get("gitlab.example.com", "")); !r.Secret.IsZero() {
		t.Errorf("get after a second unlock = %+v, want nothing while suspect", r)
	}
}

// TestRefusedChangesSendNothing: a rotate of a token that does not exist
// is refused before the secret goes to any API.
func TestRefusedChangesSendNothing(t *testing.T) {
	api := githubtest.NewServer()
	defer api.Close()
	f := newFixture(t)
	f.a.cfg.GitHubAPI = api.URL
	r := f.do(t, &client.Request{Op: client.OpRotate, Name: "nope", Secret: client.NewSecret(canary), Meta: &client.TokenMeta{Hosts: []string{"github.com"}}})
	if r.Code != client.CodeNotFound {
		t.Errorf("rotate of a missing token = %+v, want not_found", r)
	}
	if n := len(api.Requests()); n != 0 {
		t.Errorf("the API saw %d requests for a refused rotate", n)
	}
	if r := f.do(t, &client.Request{Op: client.OpAppAdd, Name: "remembered:x", App: &client.AppSpec{AppID: 1, InstallationID: 2},
		Secret: client.NewSecret("-----BEGIN RSA PRIVATE KEY-----\n")}); r.Code != client.CodeBadRequest {
		t.Errorf("app add remembered:x = %+v, want bad_request", r)
	}
}

// TestKeyfobSecretIsNotRemembered: git confirming keyfob's own token under
// another username (a store the token match misses) does not turn it into
// a remembered credential, even with [[remember]] "*".
func TestKeyfobSecretIsNotRemembered(t *testing.T) {
	f := newFixture(t)
	f.remember("*")
	f.add(t, "lab", canary, "gitlab.example.com")
	f.store(t, "gitlab.example.com", "someone-else", canary, "", 0)
	if n := len(f.a.vault.Snapshot().Remembered); n != 0 {
		t.Errorf("%d remembered credentials after git confirmed keyfob's token, want none", n)
	}
}
