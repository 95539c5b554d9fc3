package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
	"github.com/keyfob/keyfob/daemon/policy"
)

func paths(s *githubtest.Server) []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func tokenInfo(t *testing.T, f *fixture, name string) client.TokenInfo {
	t.Helper()
	for _, ti := range f.do(t, &client.Request{Op: client.OpList}).Tokens {
		if ti.Name == name {
			return ti
		}
	}
	t.Fatalf("no token %s", name)
	return client.TokenInfo{}
}

// A token for an Enterprise host is checked against that host's API only
// once the config declares the host, and routed owners that enforce SAML
// SSO make it sso-required until the next check finds it authorized.
func TestEnterpriseHostAndSSO(t *testing.T) {
	ghe := githubtest.NewEnterpriseServer()
	defer ghe.Close()
	ghe.AddToken(canary, githubtest.Account{Login: "mona", Scopes: "repo"})
	ghe.SSO("acme")
	f := newFixture(t)

	// Not declared: stored unchecked, nothing asked.
	f.add(t, "early", "ghp_canaryAGENT0000000000000000000early", "ghe.example")
	if got := paths(ghe); len(got) != 0 {
		t.Fatalf("an undeclared host's API was asked: %q", got)
	}

	f.a.SetGitHubHosts([]github.Host{{Name: "ghe.example", API: ghe.API}})
	routes := policy.Compile([]policy.Route{{Match: "ghe.example/acme", Token: "ent", Source: "c.toml:1"}})
	f.a.SetRoutes(routes, "")
	f.a.Wait()
	r := f.do(t, &client.Request{Op: client.OpAdd, Name: "ent", Meta: &client.TokenMeta{Hosts: []string{"ghe.example"}}, Secret: client.NewSecret(canary)})
	if r.Code != "" || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "organization acme enforces SAML SSO") || !strings.Contains(r.Warnings[0], githubtest.SSOURL("acme")) {
		t.Fatalf("add ent = %+v, want a SAML SSO warning", r)
	}
	if got := paths(ghe); !slices.Contains(got, "GET /api/v3/user") || !slices.Contains(got, "GET /api/v3/orgs/acme") {
		t.Fatalf("Enterprise API saw %q, want /api/v3/user and /api/v3/orgs/acme", got)
	}
	ti := tokenInfo(t, f, "ent")
	if ti.State != StateSSO || ti.Login != "mona" || len(ti.SSO) != 1 || ti.SSO[0].Org != "acme" || ti.SSO[0].URL != githubtest.SSOURL("acme") {
		t.Fatalf("ent = %+v, want sso-required for acme", ti)
	}
	if w := f.do(t, &client.Request{Op: client.OpWhich, Cred: &client.Credential{Protocol: "https", Host: "ghe.example", Path: "acme/app.git"}}); len(w.Warnings) != 1 || !strings.Contains(w.Warnings[0], "sso-required") {
		t.Errorf("which = %+v, want the SSO state", w)
	}

	// The helper is told for acme's repositories, once an hour.
	g := f.do(t, get("ghe.example", "acme/app.git"))
	if g.Secret.Reveal() != canary || len(g.Warnings) != 1 || !strings.Contains(g.Warnings[0], "token ent is sso-required for acme") {
		t.Fatalf("get = %+v, want the token and an SSO warning", g)
	}
	if g := f.do(t, get("ghe.example", "acme/app.git")); len(g.Warnings) != 0 {
		t.Errorf("second get warned again: %q", g.Warnings)
	}
	f.now = f.now.Add(61 * time.Minute)
	if g := f.do(t, get("ghe.example", "acme/app.git")); len(g.Warnings) != 1 {
		t.Errorf("get an hour later = %q, want the warning again", g.Warnings)
	}

	// Authorized: the next check (a config change) clears it.
	ghe.AuthorizeSSO("acme", canary)
	f.a.SetRoutes(routes, "")
	f.a.Wait()
	if ti := tokenInfo(t, f, "ent"); ti.State != StateOK || len(ti.SSO) != 0 {
		t.Fatalf("ent after authorizing = %+v, want ok", ti)
	}

	// A rejection in another organization that enforces SSO: the
	// re-validation asks the Enterprise API and finds it.
	ghe.SSO("beta")
	ghe.Repo("beta", "lib", "contents=read")
	er := f.do(t, &client.Request{Op: client.OpErase, Cred: &client.Credential{Protocol: "https", Host: "ghe.example", Path: "beta/lib.git",
		Username: DefaultUsername, PasswordFP: client.NewSecret(canary).Fingerprint()}})
	if er.Code != "" {
		t.Fatalf("erase = %+v", er)
	}
	f.a.Wait()
	ti = tokenInfo(t, f, "ent")
	if ti.State != StateSSO || len(ti.SSO) != 1 || ti.SSO[0].Org != "beta" {
		t.Fatalf("ent after a rejection in beta = %+v, want sso-required for beta", ti)
	}
	if got := paths(ghe); !slices.Contains(got, "GET /api/v3/repos/beta/lib") {
		t.Errorf("re-validation asked %q, want /api/v3/repos/beta/lib", got)
	}
	f.noCanary(t, r, er)
}

// What the API answers decides: a 401 refuses with GitHub's words, a 5xx
// or no network stores unverified naming the URL, and a 404 on /user says
// the API base is wrong and how to set it.
func TestValidationAnswers(t *testing.T) {
	ghe := githubtest.NewEnterpriseServer()
	defer ghe.Close()
	ghe.AddToken(canary, githubtest.Account{Login: "mona"})
	f := newFixture(t)
	f.a.SetGitHubHosts([]github.Host{
		{Name: "ghe.example", API: ghe.API},
		{Name: "wrong.example", API: ghe.URL},
		{Name: "down.example", API: "http://127.0.0.1:1/api/v3"},
	})
	add := func(name, secret, host string) *client.Response {
		return f.do(t, &client.Request{Op: client.OpAdd, Name: name, Meta: &client.TokenMeta{Hosts: []string{host}}, Secret: client.NewSecret(secret)})
	}
	if r := add("bad", "ghp_canaryAGENT00000000000000000000bad", "ghe.example"); r.Code != client.CodeDenied || !strings.Contains(r.Error, "GitHub refused the token: GitHub API answered 401: Bad credentials; nothing was stored") {
		t.Errorf("add with a 401 = %+v", r)
	}
	if r := add("wrong", canary, "wrong.example"); r.Code != client.CodeDenied ||
		!strings.Contains(r.Error, "GET "+ghe.URL+"/user answered 404: "+ghe.URL+" is probably not the REST API of wrong.example") ||
		!strings.Contains(r.Hint, `[[github]] host = "wrong.example", api = "https://wrong.example/api/v3"`) {
		t.Errorf("add with a wrong API base = %+v", r)
	}
	if r := add("down", canary, "down.example"); r.Code != "" || len(r.Warnings) != 1 ||
		!strings.Contains(r.Warnings[0], "could not reach the GitHub API at http://127.0.0.1:1/api/v3, so the token is stored unverified (connection refused)") {
		t.Errorf("add with no API = %+v", r)
	}
	ghe.Fail(503)
	if r := add("later", canary, "ghe.example"); r.Code != "" || len(r.Warnings) != 1 ||
		!strings.Contains(r.Warnings[0], "the GitHub API at "+ghe.API+"/user answered 503, so the token is stored unverified") {
		t.Errorf("add with a 503 = %+v", r)
	}
	if ti := tokenInfo(t, f, "later"); ti.State != StateUnverified {
		t.Errorf("later = %+v, want unverified", ti)
	}
}

// Installation tokens of the newer form, ghs_APPID_<JWT>, are far longer
// than 40 characters: stored, masked, classified and handed out whole.
func TestLongInstallationToken(t *testing.T) {
	long := "ghs_12345_eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + strings.Repeat("eyJpc3MiOiIxMjM0NSJ9", 30) + ".canarySIG" + strings.Repeat("x", 300) + "LAST"
	api := githubtest.NewServer()
	defer api.Close()
	api.AddToken(long, githubtest.Account{Login: "app[bot]"})
	f := newFixture(t)
	f.a.cfg.GitHubAPI = api.URL
	f.add(t, "inst", long, "github.com")
	ti := tokenInfo(t, f, "inst")
	if ti.Masked != "ghs_****LAST" || ti.Kind != github.KindApp || ti.Login != "app[bot]" {
		t.Errorf("inst = %+v, want masked ghs_****LAST, kind app", ti)
	}
	if g := f.do(t, get("github.com", "acme/app.git")); g.Secret.Reveal() != long {
		t.Errorf("get = %d bytes, want the %d-byte token whole", g.Secret.Len(), len(long))
	}
}
