package agent

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
	"github.com/keyfob/keyfob/daemon/policy"
)

// appFixture is an agent with a fake GitHub API that knows app 101,
// installed on acme (repositories app and lib) as installation 42.
type appFixture struct {
	*fixture
	api *githubtest.Server
	pem string
}

func newAppFixture(t *testing.T) *appFixture {
	t.Helper()
	f := newFixture(t)
	api := githubtest.NewServer()
	t.Cleanup(api.Close)
	api.SetClock(func() time.Time { return f.now })
	api.SetTokenPrefix("canaryMINT")
	api.AddApp(101, &githubtest.Key(0).PublicKey)
	api.AddInstallation(githubtest.Installation{ID: 42, AppID: 101, Owner: "acme", Repos: []string{"app", "lib"}})
	f.a.cfg.GitHubAPI = api.URL
	return &appFixture{fixture: f, api: api, pem: string(githubtest.KeyPEM(githubtest.Key(0)))}
}

func (f *appFixture) addApp(t *testing.T, name string, spec client.AppSpec) *client.Response {
	t.Helper()
	return f.do(t, &client.Request{Op: client.OpAppAdd, Name: name, App: &spec, Secret: client.NewSecret(f.pem)})
}

// auditLines returns the audit log's lines for op, decoded.
func (f *appFixture) auditLines(t *testing.T, op string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if m["op"] == op {
			out = append(out, m)
		}
	}
	return out
}

// noKey checks that no part of the private key reached the audit log or
// the debug log.
func (f *appFixture) noKey(t *testing.T) {
	t.Helper()
	body := strings.Split(f.pem, "\n")[5] // a line from the middle of the key
	b, _ := os.ReadFile(f.audit)
	if strings.Contains(string(b), body) {
		t.Errorf("audit log holds the private key")
	}
	for _, e := range f.logs.All() {
		if strings.Contains(e.Message+" "+strings.Join(strings.Fields(strings.TrimSpace(stringMap(e.ContextMap()))), " "), body) {
			t.Errorf("debug log holds the private key: %s", e.Message)
		}
	}
}

func stringMap(m map[string]any) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func TestAppMintsPerRepositoryAndReuses(t *testing.T) {
	f := newAppFixture(t)
	add := f.addApp(t, "ci", client.AppSpec{AppID: 101, InstallationID: 42})
	if add.Code != "" || len(add.Apps) != 1 || add.Apps[0].Owner != "acme" || add.Apps[0].Validation != Valid {
		t.Fatalf("app add = %+v, want a verified app on acme", add)
	}
	// the check's token was minted with the least permission, and revoked
	if m := f.api.Mints(); len(m) != 1 || m[0].Permissions["metadata"] != "read" || !m[0].Revoked {
		t.Fatalf("mints after add = %+v, want one metadata:read token, revoked", m)
	}

	r1 := f.do(t, get("github.com", "acme/app.git"))
	if r1.Code != "" || r1.Token != "ci" || r1.Username != DefaultUsername {
		t.Fatalf("get acme/app = %+v", r1)
	}
	m := f.api.Mints()
	if len(m) != 2 || m[1].Token != r1.Secret.Reveal() || strings.Join(m[1].Repositories, ",") != "app" {
		t.Fatalf("mints = %+v, want a token for repository app handed out", m)
	}
	if want := f.now.Add(time.Hour).Unix(); r1.Expiry != want {
		t.Errorf("get Expiry = %d, want %d (expires_at)", r1.Expiry, want)
	}
	r2 := f.do(t, get("github.com", "acme/app.git"))
	if !r2.Secret.Equal(r1.Secret) {
		t.Errorf("second get for acme/app minted again, want the cached token")
	}
	r3 := f.do(t, get("github.com", "acme/lib.git"))
	if r3.Code != "" || r3.Secret.Equal(r1.Secret) || len(f.api.Mints()) != 3 {
		t.Errorf("get acme/lib = %+v, want a second token of its own", r3)
	}
	gets := f.auditLines(t, "get")
	if len(gets) != 3 || gets[0]["mint"] != "minted" || gets[1]["mint"] != "reused" || gets[2]["mint"] != "minted" ||
		gets[0]["scope"] != "repositories=app" || gets[0]["installation"] != float64(42) || gets[0]["fp"] != r1.Fingerprint || gets[0]["expires"] == nil {
		t.Errorf("audit get lines = %v, want minted, reused, minted with scope, installation, fp and expiry", gets)
	}

	// list shows the app and its cached tokens, masked
	l := f.do(t, &client.Request{Op: client.OpList})
	if len(l.Apps) != 1 || len(l.Apps[0].Cached) != 2 || !strings.HasPrefix(l.Apps[0].Cached[0].Masked, "ghs_****") {
		t.Fatalf("list apps = %+v, want ci with two masked cached tokens", l.Apps)
	}

	// renewal: 5 minutes before expires_at, a new token replaces it
	f.now = f.now.Add(55*time.Minute + time.Second)
	r4 := f.do(t, get("github.com", "acme/app.git"))
	if r4.Code != "" || r4.Secret.Equal(r1.Secret) || r4.Expiry != f.now.Add(time.Hour).Unix() {
		t.Errorf("get at expiry-5m = %+v, want a renewed token", r4)
	}

	// lock revokes every cached token and says so in the audit log
	f.do(t, &client.Request{Op: client.OpLock})
	revoked := 0
	for _, mm := range f.api.Mints() {
		if mm.Revoked {
			revoked++
		}
	}
	// the check's token at add, and the two cached at lock; the token
	// replaced at renewal is left to expire, as a push may still use it
	if revoked != 3 || f.api.Mints()[1].Revoked {
		t.Errorf("%d of %d tokens revoked after lock, want 3: %+v", revoked, len(f.api.Mints()), f.api.Mints())
	}
	if rl := f.auditLines(t, "revoke"); len(rl) != 2 || rl[0]["decision"] != "revoked" || rl[1]["decision"] != "revoked" || rl[0]["fp"] != r4.Fingerprint {
		t.Errorf("audit revoke lines = %v, want 2 revoked", rl)
	}
	f.noCanary(t, r1, r2, r3, r4, l, add)
	f.noKey(t)
}

func TestAppRouteNarrows(t *testing.T) {
	f := newAppFixture(t)
	if r := f.addApp(t, "ci", client.AppSpec{AppID: 101, Owner: "acme", NoVerify: true}); r.Code != "" {
		t.Fatalf("app add = %+v", r)
	}
	f.a.SetRoutes(policy.Compile([]policy.Route{{Match: "github.com", Token: "ci", Permissions: policy.NewPermissions(map[string]string{"contents": "read"}), RequireRepo: true, Source: "config.toml:1"}}), "")
	r := f.do(t, get("github.com", "acme/app.git"))
	m := f.api.Mints()
	if r.Code != "" || len(m) != 1 || m[0].Permissions["contents"] != "read" || len(m[0].Permissions) != 1 || strings.Join(m[0].Repositories, ",") != "app" {
		t.Fatalf("get through a narrowing route = %+v, mints %+v; want repositories [app], contents:read", r, m)
	}
	// the owner was found through the API
	if n := len(f.api.Requests()); n < 2 || f.api.Requests()[0].Path != "/orgs/acme/installation" {
		t.Errorf("requests = %+v, want the installation looked up by owner first", f.api.Requests())
	}
	// no repository: require_repo refuses, and nothing is minted
	r = f.do(t, get("github.com", ""))
	if r.Code != client.CodeDenied || !strings.Contains(r.Error, "requires a token scoped to a repository") || len(f.api.Mints()) != 1 {
		t.Errorf("get without a path = %+v, want denied without a mint", r)
	}
	// another owner's repository: refused before asking GitHub
	r = f.do(t, get("github.com", "globex/app.git"))
	if r.Code != client.CodeDenied || !strings.Contains(r.Error, "is not in app ci's installation, which is on acme") {
		t.Errorf("get globex/app = %+v, want denied naming the installation's owner", r)
	}
}

// Asked for by name, an App that routes name mints nothing: the token
// would be for the whole installation, with all of its permissions, past
// the route's require_repo and permissions. An App no route names still
// answers by name.
func TestAppByNameKeepsToItsRoutes(t *testing.T) {
	f := newAppFixture(t)
	for _, name := range []string{"ci", "free"} {
		if r := f.addApp(t, name, client.AppSpec{AppID: 101, Owner: "acme", NoVerify: true}); r.Code != "" {
			t.Fatalf("app add %s = %+v", name, r)
		}
	}
	f.a.SetRoutes(policy.Compile([]policy.Route{{Match: "github.com/acme/*", Token: "ci", Permissions: policy.NewPermissions(map[string]string{"contents": "read"}), RequireRepo: true, Source: "config.toml:1"}}), "")
	r := f.do(t, &client.Request{Op: client.OpGet, Name: "ci"})
	if r.Code != client.CodeDenied || !strings.Contains(r.Error, "app ci answers only through the routes that name it, such as route github.com/acme/* (config.toml:1)") || len(f.api.Mints()) != 0 {
		t.Fatalf("get ci by name = %+v, mints %+v; want denied, naming the route, and nothing minted", r, f.api.Mints())
	}
	if al := f.auditLines(t, "get"); len(al) != 1 || al[0]["decision"] != "denied" || al[0]["token"] != nil && al[0]["token"] != "" {
		t.Errorf("audit lines = %v, want one denied get", al)
	}
	// through the route, the mint is narrowed as before
	r = f.do(t, get("github.com", "acme/app.git"))
	if m := f.api.Mints(); r.Code != "" || len(m) != 1 || strings.Join(m[0].Repositories, ",") != "app" || len(m[0].Permissions) != 1 {
		t.Fatalf("get through the route = %+v, mints %+v; want one mint for app, contents:read", r, m)
	}
	// an App no route names answers by name, for its installation
	r = f.do(t, &client.Request{Op: client.OpGet, Name: "free"})
	if r.Code != "" || r.Secret.IsZero() || len(f.api.Mints()) != 2 {
		t.Errorf("get free by name = %+v, mints %d; want a token", r, len(f.api.Mints()))
	}
	f.noCanary(t, r)
}

func TestAppErrorsArePlain(t *testing.T) {
	f := newAppFixture(t)
	f.api.AddApp(202, &githubtest.Key(1).PublicKey) // the fixture's key is not app 202's
	for _, tc := range []struct {
		name string
		spec client.AppSpec
		path string
		want string
	}{
		{"bad key", client.AppSpec{AppID: 202, InstallationID: 42, NoVerify: true}, "acme/app.git", "GitHub refused app bad-key's key (app id 202)"},
		{"unknown installation", client.AppSpec{AppID: 101, InstallationID: 77, NoVerify: true}, "acme/app.git", "has no installation 77"},
		{"repository not installed", client.AppSpec{AppID: 101, InstallationID: 42, NoVerify: true}, "acme/secret.git", "repository acme/secret is not in app repository-not-installed's installation 42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-")
			if r := f.addApp(t, name, tc.spec); r.Code != "" {
				t.Fatalf("app add = %+v", r)
			}
			f.a.SetRoutes(policy.Compile([]policy.Route{{Match: "github.com/acme", Token: name}}), "")
			r := f.do(t, get("github.com", tc.path))
			if r.Code != client.CodeDenied || !strings.Contains(r.Error, tc.want) || r.Hint == "" || !r.Secret.IsZero() {
				t.Errorf("get = %+v, want denied saying %q, with a hint", r, tc.want)
			}
		})
	}
	// without --no-verify, a bad key is refused at add and nothing is stored
	r := f.addApp(t, "refused", client.AppSpec{AppID: 202, InstallationID: 42})
	if r.Code != client.CodeDenied || !strings.Contains(r.Error, "nothing was stored") {
		t.Errorf("app add with a bad key = %+v, want denied, nothing stored", r)
	}
	if l := f.do(t, &client.Request{Op: client.OpList}); len(l.Apps) != 3 {
		t.Errorf("list = %d apps, want the 3 added unverified", len(l.Apps))
	}
}

func TestRemoveAppRevokes(t *testing.T) {
	f := newAppFixture(t)
	f.addApp(t, "ci", client.AppSpec{AppID: 101, InstallationID: 42, NoVerify: true})
	if r := f.do(t, get("github.com", "acme/app.git")); r.Code != "" {
		t.Fatalf("get = %+v", r)
	}
	if r := f.do(t, &client.Request{Op: client.OpAdd, Name: "ci", Meta: &client.TokenMeta{Hosts: []string{"github.com"}, NoVerify: true},
		Secret: client.NewSecret(canary)}); r.Code != client.CodeBadRequest {
		t.Errorf("add token named like an app = %+v, want refused", r)
	}
	if r := f.do(t, &client.Request{Op: client.OpRemove, Name: "ci"}); r.Code != "" {
		t.Fatalf("remove app = %+v", r)
	}
	if m := f.api.Mints(); len(m) != 1 || !m[0].Revoked {
		t.Errorf("mints after remove = %+v, want the cached token revoked", m)
	}
	if r := f.do(t, get("github.com", "acme/app.git")); r.Code != client.CodeNotFound {
		t.Errorf("get after remove = %+v, want not found", r)
	}
	// and the keychain no longer has it
	if err := f.a.Unlock(client.NewSecret("pw")); err != nil {
		t.Fatal(err)
	}
	if l := f.do(t, &client.Request{Op: client.OpList}); len(l.Apps) != 0 {
		t.Errorf("apps after remove and unlock = %+v, want none", l.Apps)
	}
}

func TestEraseDropsMintedToken(t *testing.T) {
	f := newAppFixture(t)
	f.addApp(t, "ci", client.AppSpec{AppID: 101, InstallationID: 42, NoVerify: true})
	r1 := f.do(t, get("github.com", "acme/app.git"))
	er := f.do(t, &client.Request{Op: client.OpErase, Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: DefaultUsername, PasswordFP: r1.Fingerprint}})
	if er.Code != "" || len(er.Warnings) != 1 || !strings.Contains(er.Warnings[0], "the next request mints a new one") {
		t.Fatalf("erase = %+v", er)
	}
	f.a.Wait()
	r2 := f.do(t, get("github.com", "acme/app.git"))
	if r2.Secret.Equal(r1.Secret) || len(f.api.Mints()) != 2 || !f.api.Mints()[0].Revoked {
		t.Errorf("get after erase reused the rejected token, or it was not revoked: %+v", f.api.Mints())
	}
}
