package doctor

import (
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

func TestGitHubHosts(t *testing.T) {
	ghe := githubtest.NewEnterpriseServer()
	defer ghe.Close()
	hosts := github.NewHosts("", "", []github.Host{
		{Name: "ghe.example.com", API: ghe.API, Source: "c.toml:1"},
		{Name: "wrong.example.com", API: ghe.URL, Source: "c.toml:4"},
		{Name: "down.example.com", API: "http://127.0.0.1:1/api/v3", Source: "c.toml:7"},
	})
	toks := []client.TokenInfo{
		{Name: "corp", Hosts: []string{"github.corp.example", "gitlab.com", "ghe.example.com"}},
		{Name: "saml", Hosts: []string{"github.com"}, SSO: []client.SSO{{Org: "acme", URL: githubtest.SSOURL("acme")}}},
	}
	r := &report{}
	r.githubHosts(hosts, toks, "c.toml")
	r.tokenStates(toks)
	match(t, "github", r.findings, []want{
		ok(CheckGitHub, "GitHub host ghe.example.com: API "+ghe.API+" answers (GitHub Enterprise Server 3.14.2)"),
		problem(CheckGitHub, "GitHub host wrong.example.com: GET "+ghe.URL+"/meta answered 404, not GitHub's API", `set its REST API base: api = "https://wrong.example.com/api/v3" in its [[github]] table (c.toml:4)`),
		problem(CheckGitHub, "GitHub host down.example.com: the API at http://127.0.0.1:1/api/v3 does not answer", "c.toml:7"),
		problem(CheckGitHub, "token corp is for github.corp.example, which keyfob does not know as a GitHub", `[[github]] host = "github.corp.example"`),
		problem(CheckGitHub, "token saml is sso-required: organization acme enforces SAML SSO and refuses it", "authorize the token at "+githubtest.SSOURL("acme")),
	})
}
