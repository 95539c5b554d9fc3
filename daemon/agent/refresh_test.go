package agent

import (
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// loginFixture is an agent whose github.com is a fake that runs the
// device flow for client id Iv23liTEST (approved by mona at once), on a
// clock the test moves.
type loginFixture struct {
	*fixture
	api   *githubtest.Server
	clock atomic.Int64
}

func newLoginFixture(t *testing.T) *loginFixture {
	t.Helper()
	f := &loginFixture{fixture: &fixture{dir: t.TempDir()}}
	f.clock.Store(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, f.clock.Load()).UTC() }
	f.api = githubtest.NewServer()
	t.Cleanup(f.api.Close)
	f.api.SetClock(now)
	f.api.AddOAuthApp(githubtest.OAuthApp{ClientID: "Iv23liTEST", Login: "mona", DeviceFlow: true})
	f.api.ApproveAfter(0)
	f.audit = filepath.Join(f.dir, "audit.log")
	alog, err := audit.Open(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close() })
	core, logs := observer.New(zap.DebugLevel)
	f.logs = logs
	f.a = New(Config{Backend: "file", Dir: filepath.Join(f.dir, "keyring"), Passphrase: client.NewSecret("pw"),
		GitHubAPI: f.api.URL, GitHubURL: f.api.URL, Audit: alog, Log: zap.New(core), Now: now})
	if err := f.a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.a.Shutdown(t.Context()) })
	return f
}

func (f *loginFixture) advance(d time.Duration) { f.clock.Add(int64(d)) }

func (f *loginFixture) login(t *testing.T) client.TokenInfo {
	t.Helper()
	spec := &client.LoginSpec{ClientID: "Iv23liTEST"}
	start := f.do(t, &client.Request{Op: client.OpLoginStart, Login: spec})
	if start.Code != "" || start.Secret.IsZero() || start.Login == nil || start.Login.UserCode == "" {
		t.Fatalf("login-start = %+v", start)
	}
	r := f.do(t, &client.Request{Op: client.OpLoginPoll, Login: spec, Secret: start.Secret.Clone()})
	if r.Code != "" || len(r.Tokens) != 1 || !r.Secret.IsZero() {
		t.Fatalf("login-poll = %s %s %+v", r.Code, r.Error, r.Tokens)
	}
	return r.Tokens[0]
}

func (f *loginFixture) tokenCalls() int {
	n := 0
	for _, r := range f.api.Requests() {
		if r.Path == "/login/oauth/access_token" {
			n++
		}
	}
	return n
}

func TestUserTokenRefreshes(t *testing.T) {
	f := newLoginFixture(t)
	ti := f.login(t)
	if ti.Name != "mona@github.com" || ti.Kind != KindUserShown || !ti.Refreshes || ti.RefreshExpires.IsZero() || ti.Login != "mona" {
		t.Fatalf("login made %+v", ti)
	}
	first := f.do(t, get("github.com", "mona/app.git"))
	if first.Code != "" || !strings.HasPrefix(first.Secret.Reveal(), "ghu_") || first.Username != "mona" || first.Expiry == 0 {
		t.Fatalf("get = %s %s user %q expiry %d", first.Code, first.Error, first.Username, first.Expiry)
	}

	// Due (5 minutes left of 8 hours): concurrent gets share one refresh
	// and all answer the new token.
	f.advance(8*time.Hour - 5*time.Minute)
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			r := f.a.Handle(t.Context(), me, get("github.com", "mona/app.git"))
			got[i] = r.Secret.Reveal()
		})
	}
	wg.Wait()
	// One call for the login's poll, one for the refresh.
	if n, calls := f.api.Refreshes(), f.tokenCalls(); n != 1 || calls != 2 {
		t.Fatalf("8 concurrent gets made %d refreshes in %d calls, want 1 in 1", n, calls-1)
	}
	for i, s := range got {
		if s == first.Secret.Reveal() || s != got[0] || !strings.HasPrefix(s, "ghu_") {
			t.Fatalf("get %d answered %q, want the one refreshed token %q", i, s, got[0])
		}
	}

	// GitHub unreachable: the access token is served while it is valid,
	// with a warning, and gets back off instead of calling again.
	f.api.Fail(503)
	f.advance(8*time.Hour - 5*time.Minute)
	calls := f.tokenCalls()
	r := f.do(t, get("github.com", "mona/app.git"))
	if r.Secret.Reveal() != got[0] || !strings.Contains(strings.Join(r.Warnings, "\n"), "could not be refreshed") {
		t.Fatalf("get while GitHub is down = %q, warnings %q", r.Secret.Reveal(), r.Warnings)
	}
	r = f.do(t, get("github.com", "mona/app.git"))
	if n := f.tokenCalls(); n != calls+1 || r.Secret.Reveal() != got[0] {
		t.Fatalf("two gets while GitHub is down made %d refresh calls, want 1", n-calls)
	}
	l := f.do(t, &client.Request{Op: client.OpList})
	if st := l.Tokens[0]; st.State != StateOK || !strings.Contains(st.Reason, "refreshing failed, retrying") {
		t.Fatalf("state while GitHub is down = %s (%s)", st.State, st.Reason)
	}
	// Back, after the back-off: refreshed.
	f.api.Fail(0)
	f.advance(10 * time.Second)
	r = f.do(t, get("github.com", "mona/app.git"))
	if r.Code != "" || r.Secret.Reveal() == got[0] || f.api.Refreshes() != 2 {
		t.Fatalf("get after GitHub is back = %s %s, refreshes %d", r.Code, r.Error, f.api.Refreshes())
	}

	// Revoked: the refresh is refused, the token is invalid, and a get
	// says to log in again.
	f.api.RevokeUserTokens("Iv23liTEST")
	f.advance(9 * time.Hour)
	r = f.do(t, get("github.com", "mona/app.git"))
	if r.Code != client.CodeNotFound || !r.Secret.IsZero() || !strings.Contains(r.Hint+r.Error, "keyfob login again") {
		t.Fatalf("get after revocation = %s %q %q", r.Code, r.Error, r.Hint)
	}
	l = f.do(t, &client.Request{Op: client.OpList})
	if st := l.Tokens[0]; st.State != StateInvalid || !strings.Contains(st.Reason, "bad_refresh_token") {
		t.Fatalf("state after revocation = %s (%s)", st.State, st.Reason)
	}
	r = f.do(t, get("github.com", "mona/app.git"))
	if r.Code != client.CodeNotFound || !strings.Contains(r.Error, "run keyfob login again") {
		t.Fatalf("second get after revocation = %s %q", r.Code, r.Error)
	}
	f.noCanary(t, first, r, l)
}

// TestRefreshTokenWarnsBeforeItEnds checks the warning from 14 days before
// the refresh token ends, and that a user token is never rotation-due.
func TestRefreshTokenWarnsBeforeItEnds(t *testing.T) {
	f := newLoginFixture(t)
	f.api.SetUserTokenLifetime(8*time.Hour, 10*24*time.Hour)
	f.login(t)
	f.advance(time.Hour) // no refresh is due
	ws := f.a.Check()
	if len(ws) != 1 || !strings.Contains(ws[0], "is expiring (its refresh token expires") || !strings.Contains(ws[0], "run keyfob login again") {
		t.Fatalf("Check() = %q", ws)
	}
}

// TestLoginTargets checks where a login goes: github.com's web base (or
// its override), a configured Enterprise host's, SUB.ghe.com's, and the
// client id stored with an app.
func TestLoginTargets(t *testing.T) {
	f := newLoginFixture(t)
	f.a.SetGitHubHosts([]github.Host{{Name: "ghe.example.com"}})
	if r := f.do(t, &client.Request{Op: client.OpAppAdd, Name: "myapp", Secret: client.NewSecret(string(githubtest.KeyPEM(githubtest.Key(0)))),
		App: &client.AppSpec{AppID: 101, InstallationID: 42, NoVerify: true, ClientID: "Iv23liAPP"}}); r.Code != "" {
		t.Fatalf("app-add = %s %s", r.Code, r.Error)
	}
	for _, tc := range []struct {
		spec      client.LoginSpec
		web, id   string
		errSubstr string
	}{
		{spec: client.LoginSpec{ClientID: "Iv23liX"}, web: f.api.URL, id: "Iv23liX"},
		{spec: client.LoginSpec{ClientID: "Iv23liX", Host: "ghe.example.com"}, web: "https://ghe.example.com", id: "Iv23liX"},
		{spec: client.LoginSpec{ClientID: "Iv23liX", Host: "octo.ghe.com"}, web: "https://octo.ghe.com", id: "Iv23liX"},
		{spec: client.LoginSpec{App: "myapp"}, web: f.api.URL, id: "Iv23liAPP"},
		{spec: client.LoginSpec{App: "nosuch"}, errSubstr: "no client id stored for app nosuch"},
		{spec: client.LoginSpec{ClientID: "Iv23liX", Host: "gitlab.com"}, errSubstr: "gitlab.com is not a GitHub keyfob knows"},
		{spec: client.LoginSpec{ClientID: "bad\nid"}, errSubstr: "control character"},
	} {
		got, bad := f.a.loginTarget(&tc.spec)
		switch {
		case tc.errSubstr != "":
			if bad == nil || !strings.Contains(bad.Error, tc.errSubstr) {
				t.Errorf("loginTarget(%+v) = %+v, %v; want %q", tc.spec, got, bad, tc.errSubstr)
			}
		case bad != nil || got.host.Web != tc.web || got.clientID != tc.id:
			t.Errorf("loginTarget(%+v) = %s %s, %v; want %s %s", tc.spec, got.host.Web, got.clientID, bad, tc.web, tc.id)
		}
	}
}

// TestRotateRefusesUserToken checks that a user token is replaced by
// logging in again, not by pasting a token over it.
func TestRotateRefusesUserToken(t *testing.T) {
	f := newLoginFixture(t)
	f.login(t)
	r := f.do(t, &client.Request{Op: client.OpRotate, Name: "mona@github.com", Secret: client.NewSecret("ghp_canaryPASTED0000000000000000000000")})
	if r.Code != client.CodeBadRequest || !strings.Contains(r.Hint, "keyfob login --name mona@github.com") {
		t.Fatalf("rotate of a user token = %s %q %q", r.Code, r.Error, r.Hint)
	}
}

// TestRefreshTimes checks when a user token is due (a quarter of its life
// left, at most 10 minutes) and how the background refresher leaves a
// token alone while a git that just got it may still use it.
func TestRefreshTimes(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	entry := func(life time.Duration, lastUse time.Time) *vault.Entry {
		e := &vault.Entry{Name: "u", Meta: store.Meta{Created: t0, Expires: t0.Add(life), ClientID: "Iv23liX"}, Live: &vault.Live{}}
		if !lastUse.IsZero() {
			e.LastUsed.Store(lastUse.UnixNano())
		}
		return e
	}
	for _, tc := range []struct {
		life      time.Duration
		used      time.Time
		due, bgAt time.Time
	}{
		{life: 8 * time.Hour, due: t0.Add(8*time.Hour - 10*time.Minute), bgAt: t0.Add(8*time.Hour - 10*time.Minute)},
		{life: 20 * time.Second, due: t0.Add(15 * time.Second), bgAt: t0.Add(15 * time.Second)},
		// used just before it was due: wait a quarter of the lead
		{life: 8 * time.Hour, used: t0.Add(8*time.Hour - 11*time.Minute), due: t0.Add(8*time.Hour - 10*time.Minute), bgAt: t0.Add(8*time.Hour - 11*time.Minute + 150*time.Second)},
		// used again and again: at the latest half the lead before the end
		{life: 8 * time.Hour, used: t0.Add(8*time.Hour - 6*time.Minute), due: t0.Add(8*time.Hour - 10*time.Minute), bgAt: t0.Add(8*time.Hour - 5*time.Minute)},
	} {
		e := entry(tc.life, tc.used)
		if got := dueAt(e); !got.Equal(tc.due) {
			t.Errorf("dueAt(life %s) = %s, want %s", tc.life, got, tc.due)
		}
		if got := backgroundAt(e); !got.Equal(tc.bgAt) {
			t.Errorf("backgroundAt(life %s, used %s) = %s, want %s", tc.life, tc.used, got, tc.bgAt)
		}
	}
}
