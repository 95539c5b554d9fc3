package ghapp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	api   *githubtest.Server
	clock *clock
	m     *Minter
	app   App
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	api := githubtest.NewServer()
	t.Cleanup(api.Close)
	c := &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	api.SetClock(c.Now)
	api.AddApp(101, &githubtest.Key(0).PublicKey)
	api.AddInstallation(githubtest.Installation{ID: 42, AppID: 101, Owner: "acme", Repos: []string{"app", "lib"}})
	api.AddInstallation(githubtest.Installation{ID: 43, AppID: 101, Owner: "octocat", IsUser: true})
	return &fixture{api: api, clock: c, m: &Minter{Now: c.Now},
		app: App{Name: "ci", ID: 101, Installation: 42, Base: api.URL, Key: client.NewSecret(string(githubtest.KeyPEM(githubtest.Key(0))))}}
}

func (f *fixture) count(method, path string) int {
	n := 0
	for _, r := range f.api.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestSignJWTClaims(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	app := App{Name: "ci", ID: 101, Key: client.NewSecret(string(githubtest.KeyPEM(githubtest.Key(0))))}
	s, err := SignJWT(app, now)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(s.Reveal(), ".")
	if len(parts) != 3 {
		t.Fatalf("SignJWT: %d parts, want 3", len(parts))
	}
	var hdr map[string]any
	var claims struct {
		Iat, Exp int64
		Iss      string
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(hb, &hdr); err != nil || hdr["alg"] != "RS256" {
		t.Errorf("header = %s, want alg RS256", hb)
	}
	if err := json.Unmarshal(cb, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Iat != now.Add(-60*time.Second).Unix() || claims.Exp > now.Add(10*time.Minute).Unix() || claims.Exp <= now.Unix() || claims.Iss != "101" {
		t.Errorf("claims = %+v, want iat now-60s, now < exp <= now+10m, iss 101", claims)
	}
	if strings.Contains(fmt.Sprintf("%v %+v", s, app), "PRIVATE") {
		t.Errorf("a printed JWT or app shows the key")
	}
}

func TestParseKeyRefusesGarbage(t *testing.T) {
	if err := ParseKey(client.NewSecret("not a key")); err == nil {
		t.Errorf("ParseKey(garbage) = nil, want an error")
	}
	if err := ParseKey(client.NewSecret(string(githubtest.KeyPEM(githubtest.Key(0))))); err != nil {
		t.Errorf("ParseKey(PKCS #1 PEM) = %v, want nil", err)
	}
}

func TestGetScopesCachesAndRenews(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	sc := Scope{Repositories: []string{"app"}, Permissions: map[string]string{"contents": "read"}}
	t1, minted, err := f.m.Get(ctx, f.app, sc)
	if err != nil || !minted {
		t.Fatalf("Get = %v, minted %v; want a new token", err, minted)
	}
	mints := f.api.Mints()
	if len(mints) != 1 || fmt.Sprint(mints[0].Repositories) != "[app]" || mints[0].Permissions["contents"] != "read" || mints[0].Installation != 42 {
		t.Fatalf("fake saw %+v, want one mint for installation 42, repositories [app], contents:read", mints)
	}
	if t1.Secret.Reveal() != mints[0].Token || !t1.Expires.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("Get = %s expiring %v, want the fake's token expiring in an hour", t1.Fingerprint(), t1.Expires)
	}
	if fmt.Sprint(t1.Repositories) != "[acme/app]" {
		t.Errorf("Repositories = %v, want [acme/app]", t1.Repositories)
	}

	// the same scope is reused until 5 minutes before expiry
	f.clock.Advance(54 * time.Minute)
	t2, minted, err := f.m.Get(ctx, f.app, Scope{Repositories: []string{"APP"}, Permissions: map[string]string{"contents": "read"}})
	if err != nil || minted || !t2.Secret.Equal(t1.Secret) {
		t.Fatalf("Get after 54m = minted %v, err %v; want the cached token", minted, err)
	}
	// another scope is another token
	if _, minted, err := f.m.Get(ctx, f.app, Scope{Repositories: []string{"lib"}}); err != nil || !minted {
		t.Fatalf("Get(lib) = minted %v, err %v; want a new token", minted, err)
	}
	// within 5 minutes of expiry: renewed
	f.clock.Advance(time.Minute + time.Second)
	t3, minted, err := f.m.Get(ctx, f.app, sc)
	if err != nil || !minted || t3.Secret.Equal(t1.Secret) {
		t.Fatalf("Get after 55m = minted %v, err %v; want a new token", minted, err)
	}
	if n := len(f.api.Mints()); n != 3 {
		t.Errorf("fake minted %d tokens, want 3", n)
	}
}

func TestConcurrentGetsShareOneMint(t *testing.T) {
	f := newFixture(t)
	const n = 8
	gate := make(chan struct{})
	// every request either reaches GitHub (and waits there) or joins a
	// mint under way
	waiting := make(chan struct{}, n)
	f.api.HoldMints(gate, waiting)
	f.m.joined = func() { waiting <- struct{}{} }
	var wg sync.WaitGroup
	toks := make([]Token, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], _, errs[i] = f.m.Get(t.Context(), f.app, Scope{Repositories: []string{"app"}})
		}()
	}
	for range n {
		<-waiting
	}
	close(gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !toks[i].Secret.Equal(toks[0].Secret) {
			t.Fatalf("Get #%d = %v, %v; want the shared token", i, toks[i].Fingerprint(), errs[i])
		}
	}
	if got := f.count("POST", "/app/installations/42/access_tokens"); got != 1 {
		t.Errorf("%d concurrent gets made %d mints, want 1", n, got)
	}
}

func TestErrorsSayWhich(t *testing.T) {
	f := newFixture(t)
	other := f.app
	other.Key = client.NewSecret(string(githubtest.KeyPEM(githubtest.Key(1))))
	noInst := f.app
	noInst.Installation = 99
	noOwner := f.app
	noOwner.Installation, noOwner.Owner = 0, "nobody"
	for _, tc := range []struct {
		name string
		app  App
		sc   Scope
		kind string
		msg  string
	}{
		{"wrong key", other, Scope{}, BadKey, "GitHub refused app ci's key"},
		{"unknown installation", noInst, Scope{}, NoInstallation, "has no installation 99"},
		{"owner without installation", noOwner, Scope{}, NoInstallation, "is not installed on nobody"},
		{"repository outside installation", f.app, Scope{Repositories: []string{"secret"}}, RepoNotInstalled, "repository secret is not in app ci's installation 42"},
		{"permission outside installation", f.app, Scope{Permissions: map[string]string{"administration": "write"}}, RepoNotInstalled, "app ci's installation 42 does not grant permissions administration:write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := f.m.Get(t.Context(), tc.app, tc.sc)
			var e *Error
			if !errors.As(err, &e) || e.Kind != tc.kind || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Get = %v, want a %s error saying %q", err, tc.kind, tc.msg)
			}
			if e.Hint == "" {
				t.Errorf("error %v has no hint", err)
			}
		})
	}
	if n := len(f.m.Cached(nil)); n != 0 {
		t.Errorf("failed mints left %d cached tokens, want 0", n)
	}
}

func TestOwnerResolvedOnceOrgThenUser(t *testing.T) {
	f := newFixture(t)
	app := f.app
	app.Installation, app.Owner = 0, "octocat"
	for range 2 {
		if _, _, err := f.m.Get(t.Context(), app, Scope{Repositories: []string{"dotfiles"}}); err != nil {
			t.Fatal(err)
		}
	}
	if f.count("GET", "/orgs/octocat/installation") != 1 || f.count("GET", "/users/octocat/installation") != 1 {
		t.Errorf("requests = %+v, want one org lookup (404), then one user lookup, then the cache", f.api.Requests())
	}
	if f.count("POST", "/app/installations/43/access_tokens") != 1 {
		t.Errorf("want one mint on installation 43")
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t)
	tok, _, err := f.m.Get(t.Context(), f.app, Scope{Repositories: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	other := f.app
	other.Name = "other"
	if _, _, err := f.m.Get(t.Context(), other, Scope{Repositories: []string{"lib"}}); err != nil {
		t.Fatal(err)
	}
	rs := f.m.Revoke(t.Context(), func(app string) bool { return app == "ci" })
	if len(rs) != 1 || rs[0].Err != nil || rs[0].FP != tok.Fingerprint() {
		t.Fatalf("Revoke = %+v, want ci's one token revoked", rs)
	}
	if f.count("DELETE", "/installation/token") != 1 {
		t.Errorf("fake saw no DELETE /installation/token")
	}
	if m := f.api.Mints(); !m[0].Revoked || m[1].Revoked {
		t.Errorf("fake's mints = %+v, want the first revoked only", m)
	}
	if c := f.m.Cached(nil); len(c) != 1 || c[0].App != "other" {
		t.Errorf("Cached = %+v, want other's token only", c)
	}
	// the next request mints again
	if _, minted, _ := f.m.Get(t.Context(), f.app, Scope{Repositories: []string{"app"}}); !minted {
		t.Errorf("Get after revoke reused a revoked token")
	}
}

func TestRevokeDuringMintDropsTheToken(t *testing.T) {
	f := newFixture(t)
	gate, arrived := make(chan struct{}), make(chan struct{}, 1)
	f.api.HoldMints(gate, arrived)
	done := make(chan error)
	go func() {
		_, _, err := f.m.Get(context.Background(), f.app, Scope{Repositories: []string{"app"}})
		done <- err
	}()
	<-arrived // the mint is under way
	f.m.Revoke(t.Context(), nil)
	close(gate)
	if err := <-done; !errors.Is(err, ErrDropped) {
		t.Fatalf("Get overtaken by a revoke = %v, want ErrDropped", err)
	}
	if m := f.api.Mints(); len(m) != 1 || !m[0].Revoked {
		t.Errorf("fake's mints = %+v, want the one token revoked", m)
	}
}
