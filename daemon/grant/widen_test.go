package grant

import (
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/ghapp"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
	"github.com/keyfob/keyfob/daemon/policy"
)

// TestGrantNeverWidens attacks a grant socket the way a sandbox would: with
// every username, path trick and reroute it can think of. Only the token
// the routes chose when the grant was made may come back, and only to a
// request that names it as git would.
func TestGrantNeverWidens(t *testing.T) {
	f := newFixture(t) // "personal", username x-access-token
	for _, tok := range []struct{ name, secret, user string }{
		{"bot", "ghp_canaryGRANTBOT00000000000000000bbbb", "bot"},
		{"secret", "ghp_canaryGRANTSECRET000000000000000ssss", ""},
	} {
		r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpAdd, Name: tok.name, Secret: client.NewSecret(tok.secret),
			Meta: &client.TokenMeta{Hosts: []string{"github.com"}, Username: tok.user, NoVerify: true}})
		if r.Code != "" {
			t.Fatalf("add %s: %s", tok.name, r.Error)
		}
	}
	f.a.SetRoutes(policy.Compile([]policy.Route{
		{Match: "github.com/acme/*", Token: "personal"},
		{Match: "github.com/acme/secret", Token: "secret"},
	}), "")
	sock := filepath.Join(f.dir, "w.sock")
	f.grant(t, client.GrantSpec{Label: "wide", URLs: []string{"github.com/acme/*"}, Mode: client.GrantSocket, Path: sock})

	ask := func(path, user string) (*client.Response, error) {
		return client.Call(sock, &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: path, Username: user}})
	}
	// git-credential-keyfob asks in git's own lines: the same decisions.
	askGit := func(path, user string) string {
		req := "git get\nprotocol=https\nhost=github.com\npath=" + path + "\n"
		if user != "" {
			req += "username=" + user + "\n"
		}
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte(req + "\n"))
		c.(*net.UnixConn).CloseWrite()
		b, _ := io.ReadAll(c)
		return string(b)
	}
	// What the grant is for.
	for _, tc := range []struct{ path, user string }{
		{"acme/app.git", ""}, {"acme/app.git", "x-access-token"}, {"acme//app.git", ""}, {"./acme/app.git/", ""},
	} {
		r, err := ask(tc.path, tc.user)
		if err != nil || r.Secret.Reveal() != canary {
			t.Errorf("get %s as %q = %+v, %v; want the granted token", tc.path, tc.user, r, err)
		}
		if got := askGit(tc.path, tc.user); !strings.Contains(got, "o password="+canary+"\n") || !strings.HasSuffix(got, "x 0\n") {
			t.Errorf("git get %s as %q = %q; want the granted token", tc.path, tc.user, got)
		}
	}
	// Everything else gets nothing.
	for _, tc := range []struct{ name, path, user, want string }{
		{"another account's username", "acme/app.git", "bot", `username "bot"`},
		{"an unknown username", "acme/app.git", "root", `username "root"`},
		{"a repository routed to another token", "acme/secret.git", "", "routes to secret"},
		{"the same, with that token's username", "acme/secret.git", "x-access-token", "routes to secret"},
		{"dot-dot out of the owner", "acme/../evil/x.git", "", ".."},
		{"dot-dot after the repository", "acme/app.git/../../evil/x", "", ".."},
		{"an encoded slash", "acme%2Fapp.git", "", "percent"},
		{"an encoded dot-dot", "acme/%2e%2e/secret.git", "", "percent"},
		{"a backslash", `acme\..\secret.git`, "", "backslash"},
		{"another owner", "evil/app.git", "", "not in grant"},
		{"no path", "", "", "no repository path"},
	} {
		if got := askGit(tc.path, tc.user); strings.Contains(got, "password=") || !strings.HasSuffix(got, "\nx 0\n") {
			t.Errorf("%s: git get %s as %q = %q; want no token, and a word why", tc.name, tc.path, tc.user, got)
		}
		r, err := ask(tc.path, tc.user)
		if r != nil && !r.Secret.IsZero() {
			t.Errorf("%s: get %s as %q handed out a token", tc.name, tc.path, tc.user)
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: get %s as %q = %v, want a refusal naming %q", tc.name, tc.path, tc.user, err, tc.want)
		}
	}

	// The config changes under the grant: a repository it covers now
	// routes to another token. The grant answers nothing rather than widen.
	f.a.SetRoutes(policy.Compile([]policy.Route{
		{Match: "github.com/acme/*", Token: "personal"},
		{Match: "github.com/acme/app", Token: "bot"},
	}), "")
	if r, err := ask("acme/app.git", ""); err == nil || !r.Secret.IsZero() || !strings.Contains(err.Error(), "routes to bot") {
		t.Errorf("get after a reroute = %+v, %v; want nothing", r, err)
	}

	// Audit lines carry the username git sent.
	found := false
	for _, line := range f.auditLines(t) {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if ev["grant"] == "wide" && ev["username"] == "bot" && ev["decision"] == "denied" {
			found = true
		}
	}
	if !found {
		t.Errorf("no denied audit line with username bot for grant wide:\n%s", strings.Join(f.auditLines(t), "\n"))
	}
	f.noCanary(t)
}

// TestFileGrantBoundToItsToken: a file grant is written with the token the
// routes chose, and a refresh never switches it to another.
func TestFileGrantBoundToItsToken(t *testing.T) {
	f := newFixture(t)
	r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpAdd, Name: "bot", Secret: client.NewSecret("ghp_canaryGRANTBOT00000000000000000bbbb"),
		Meta: &client.TokenMeta{Hosts: []string{"github.com"}, Username: "bot", NoVerify: true}})
	if r.Code != "" {
		t.Fatal(r.Error)
	}
	f.a.SetRoutes(policy.Compile([]policy.Route{{Match: "github.com/acme/app", Token: "personal"}}), "")
	g := f.grant(t, client.GrantSpec{Label: "f", URLs: []string{"github.com/acme/app"}, Mode: client.GrantFile, Path: filepath.Join(f.dir, "tok")})
	f.a.SetRoutes(policy.Compile([]policy.Route{{Match: "github.com/acme/app", Token: "bot"}}), "")
	tok, err := f.m.token(t.Context(), me, f.m.grants[g.Label])
	if err == nil || tok != nil || !strings.Contains(err.Error, "routes to bot") {
		t.Fatalf("token after a reroute = %+v, %+v; want a refusal", tok, err)
	}
}

// TestFailedMintsAreCachedAndCount: a sandbox that keeps asking for a
// repository the app is not installed on gets GitHub's answer from the
// cache, and each failure uses its grant up like a token would.
func TestFailedMintsAreCachedAndCount(t *testing.T) {
	api := githubtest.NewServer()
	t.Cleanup(api.Close)
	api.SetTokenPrefix("canaryMINT")
	api.AddApp(101, &githubtest.Key(0).PublicKey)
	api.AddInstallation(githubtest.Installation{ID: 42, AppID: 101, Owner: "acme", Repos: []string{"app"}})
	f := newBareFixture(t, api.URL)
	api.SetClock(f.clock)
	r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpAppAdd, Name: "ci", App: &client.AppSpec{AppID: 101, InstallationID: 42},
		Secret: client.NewSecret(string(githubtest.KeyPEM(githubtest.Key(0))))})
	if r.Code != "" {
		t.Fatalf("app add: %s %s", r.Code, r.Error)
	}
	sock := filepath.Join(f.dir, "m.sock")
	f.grant(t, client.GrantSpec{Label: "m", URLs: []string{"github.com/acme/*"}, Mode: client.GrantSocket, Path: sock, MaxUses: 3})
	posts := func() int {
		n := 0
		for _, q := range api.Requests() {
			if q.Method == "POST" && strings.HasSuffix(q.Path, "/access_tokens") {
				n++
			}
		}
		return n
	}
	before := posts()
	for i := 0; i < 3; i++ {
		if _, err := client.Call(sock, get("github.com", "acme/missing.git")); err == nil {
			t.Fatalf("get %d of a repository outside the installation succeeded", i)
		}
	}
	if n := posts() - before; n != 1 {
		t.Errorf("GitHub was asked to mint %d times for the same failing repository, want 1 (the failure is cached)", n)
	}
	if gs := f.m.List(); len(gs) != 0 {
		if gs[0].Uses != 3 {
			t.Errorf("grant after 3 failed mints = %+v, want 3 uses", gs[0])
		}
	}
	if _, err := client.Call(sock, get("github.com", "acme/app.git")); err == nil {
		t.Error("the grant still answered after its uses went to failed mints")
	}
	// After the cache's time, GitHub is asked again.
	f.advance(ghapp.FailureTTL + time.Second)
	f.a.Resolve(t.Context(), me, get("github.com", "acme/missing.git"), client.OpGet, "direct", "ci")
	if n := posts() - before; n != 2 {
		t.Errorf("after FailureTTL, %d mints asked, want 2", n)
	}
}

// TestGrantRefusesEmptyUsername: an explicitly empty username is not the
// granted token's, so it gets nothing; and a grant is not made for a
// repository only a remembered credential would answer.
func TestGrantRefusesEmptyUsername(t *testing.T) {
	f := newFixture(t)
	sock := filepath.Join(f.dir, "e.sock")
	f.grant(t, client.GrantSpec{Label: "e", URLs: []string{"github.com/acme/app"}, Mode: client.GrantSocket, Path: sock})
	r, err := client.Call(sock, &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git", EmptyUsername: true}})
	if err == nil || (r != nil && !r.Secret.IsZero()) {
		t.Errorf("get with an empty username = %+v, %v; want a refusal", r, err)
	}
	f.a.SetRoutes(policy.Compile(nil).WithRemember(policy.NewRemember([]string{"*"})), "")
	f.m.Handle(t.Context(), me, &client.Request{Op: client.OpStore, Cred: &client.Credential{Protocol: "https", Host: "gitlab.example.com", Path: "acme/app.git", Username: "u",
		PasswordFP: client.NewSecret("pw-remembered").Fingerprint()}, Secret: client.NewSecret("pw-remembered")})
	if g := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpGrant, Grant: &client.GrantSpec{Label: "rem", URLs: []string{"gitlab.example.com/acme/app"}, Mode: client.GrantSocket}}); g.Code == "" {
		t.Errorf("grant for a remote only a remembered credential answers = %+v, want a refusal", g)
	}
}
