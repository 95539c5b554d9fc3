package github_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

// An Enterprise Server answers under /api/v3; the base without it reaches
// the web server's 404.
func TestEnterpriseAPI(t *testing.T) {
	s := githubtest.NewEnterpriseServer()
	defer s.Close()
	s.AddToken("ghp_canaryENTERPRISE0000000000000000000", githubtest.Account{Login: "mona", Scopes: "repo"})
	tok := client.NewSecret("ghp_canaryENTERPRISE0000000000000000000")
	v, err := github.New(s.API).Validate(context.Background(), tok)
	if err != nil || v.Login != "mona" || len(v.Scopes) != 1 {
		t.Fatalf("Validate(%s) = %+v, %v", s.API, v, err)
	}
	var ae *github.APIError
	if _, err := github.New(s.URL).Validate(context.Background(), tok); !errors.As(err, &ae) || ae.Status != 404 {
		t.Fatalf("Validate(%s) = %v, want a 404", s.URL, err)
	}
	s.SSO("acme")
	err = github.New(s.API).Org(context.Background(), tok, "acme")
	if u, org, ok := github.SSORequired(err); !ok || org != "acme" || !strings.HasPrefix(u, "https://github.com/orgs/acme/sso?authorization_request=") {
		t.Fatalf("Org(acme) = %v, want SSO required", err)
	}
	s.AuthorizeSSO("acme", tok.Reveal())
	if err := github.New(s.API).Org(context.Background(), tok, "acme"); err != nil {
		t.Fatalf("Org(acme) after authorizing = %v", err)
	}
	s.Fail(503)
	if _, err := github.New(s.API).Validate(context.Background(), tok); !errors.As(err, &ae) || ae.Status != 503 {
		t.Fatalf("Validate while failing = %v, want a 503", err)
	}
}
