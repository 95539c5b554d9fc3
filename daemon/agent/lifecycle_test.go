package agent

import (
	"os"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

// TestErasePermissions: git reports a rejection for a repository; GitHub
// says the token is valid but answers the repository with 403 and
// X-Accepted-GitHub-Permissions, so the token is missing-permissions, not
// invalid, and is still served.
func TestErasePermissions(t *testing.T) {
	api := githubtest.NewServer()
	defer api.Close()
	api.AddToken(canary, githubtest.Account{Login: "octocat"})
	api.Repo("acme", "app", "contents=read")

	f := newFixture(t)
	f.a.cfg.GitHubAPI = api.URL
	f.add(t, "gh", canary, "github.com")
	l := f.do(t, &client.Request{Op: client.OpList})
	if l.Tokens[0].Validation != Valid || l.Tokens[0].Login != "octocat" {
		t.Fatalf("after add: %+v", l.Tokens[0])
	}
	f.do(t, &client.Request{Op: client.OpErase, Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git",
		Username: DefaultUsername, PasswordFP: client.NewSecret(canary).Fingerprint()}})
	f.a.Wait()
	l = f.do(t, &client.Request{Op: client.OpList})
	if tok := l.Tokens[0]; tok.State != StateMissing || !strings.Contains(tok.Reason, "acme/app needs contents=read") {
		t.Fatalf("after a 403 on the repository: state %q (%s), want %s naming contents=read", tok.State, tok.Reason, StateMissing)
	}
	if r := f.do(t, get("github.com", "acme/app.git")); r.Secret.Reveal() != canary {
		t.Fatalf("a token missing permissions is still served: %+v", r)
	}
	b, _ := os.ReadFile(f.audit)
	if !strings.Contains(string(b), `"op":"validate","decision":"missing-permissions"`) {
		t.Fatalf("audit log lacks the validation line:\n%s", b)
	}
	f.noCanary(t, l)
}
