package policy

import (
	"strings"
	"testing"
)

var toks = []Token{
	{Name: "personal", Hosts: []string{"github.com"}, Username: "x-access-token"},
	{Name: "github:fine-grained-acme", Hosts: []string{"github.com"}, Username: "x-access-token"},
	{Name: "work", Hosts: []string{"ghe.example.com"}, Username: "alice"},
	{Name: "work-bot", Hosts: []string{"ghe.example.com"}, Username: "bot"},
	{Name: "local", Hosts: []string{"127.0.0.1:8080"}, Username: "x-access-token"},
	{Name: "revoked", Hosts: []string{"gitlab.example.com"}, Username: "x", Unusable: "invalid: the API answered 401"},
}

var routes = []Route{
	{Match: "github.com/acme/*", Token: "github:fine-grained-acme"},
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name    string
		req     Request
		routes  []Route
		outcome Outcome
		token   string
		reason  string
	}{
		{"route wins", Request{"https", "github.com", "acme/app.git", "", false, testNow}, routes, Granted, "github:fine-grained-acme", "route github.com/acme/*"},
		{"route is case-insensitive", Request{"https", "GitHub.com", "ACME/app", "", false, testNow}, routes, Granted, "github:fine-grained-acme", ""},
		{"everything else gets the unrouted token", Request{"https", "github.com", "other/x.git", "", false, testNow}, routes, Granted, "personal", "allowlist"},
		{"no path: host-level only", Request{"https", "github.com", "", "", false, testNow}, routes, Granted, "personal", ""},
		{"no routes: ambiguous", Request{"https", "github.com", "acme/app.git", "", false, testNow}, nil, NoMatch, "", "ambiguous"},
		{"username picks the account", Request{"https", "ghe.example.com", "x/y", "bot", false, testNow}, nil, Granted, "work-bot", "username is bot"},
		{"username with no such account", Request{"https", "ghe.example.com", "x/y", "carol", false, testNow}, nil, NoMatch, "", "no token"},
		{"explicit empty username matches no account", Request{"https", "github.com", "acme/app.git", "", true, testNow}, routes, NoMatch, "", "no token"},
		{"two accounts and no username", Request{"https", "ghe.example.com", "x/y", "", false, testNow}, nil, NoMatch, "", "ambiguous"},
		{"port is part of the host", Request{"http", "127.0.0.1:8080", "", "", false, testNow}, nil, Granted, "local", ""},
		{"other port", Request{"http", "127.0.0.1:9090", "", "", false, testNow}, nil, NoMatch, "", ""},
		{"http to a remote host", Request{"http", "github.com", "", "", false, testNow}, nil, Denied, "", "plain http"},
		{"ssh", Request{"ssh", "github.com", "", "", false, testNow}, nil, Denied, "", "not https"},
		{"CR in a value", Request{"https", "github.com", "a\rb", "", false, testNow}, nil, Denied, "", "CR"},
		{"unknown host", Request{"https", "example.org", "", "", false, testNow}, nil, NoMatch, "", "no token"},
		{"unusable token never answers", Request{"https", "gitlab.example.com", "", "", false, testNow}, nil, NoMatch, "", ""},
		{"more specific route wins", Request{"https", "github.com", "acme/secret.git", "", false, testNow},
			append([]Route{{Match: "github.com/acme/secret", Token: "personal"}}, routes...), Granted, "personal", "route github.com/acme/secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Explain(tc.req, toks, Compile(tc.routes))
			if fast := Decide(tc.req, toks, Compile(tc.routes)); fast.Outcome != d.Outcome || fast.Token != d.Token || fast.Reason != d.Reason {
				t.Fatalf("Decide(%+v) = %v %q (%s), but Explain says %v %q (%s)", tc.req, fast.Outcome, fast.Token, fast.Reason, d.Outcome, d.Token, d.Reason)
			}
			if d.Outcome != tc.outcome || d.Token != tc.token || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("Decide(%+v) = %v %q (%s), want %v %q (%s)", tc.req, d.Outcome, d.Token, d.Reason, tc.outcome, tc.token, tc.reason)
			}
			if tc.outcome != Denied && len(d.Candidates) != len(toks) {
				t.Fatalf("Decide(%+v) explained %d candidates, want all %d: %+v", tc.req, len(d.Candidates), len(toks), d.Candidates)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:8080": true, "127.0.0.1": true, "127.0.0.2:1": true, "[::1]:8443": true,
		"github.com": false, "10.0.0.1": false, "localhost.evil.com": false, "": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestPatterns(t *testing.T) {
	for _, bad := range []string{"", "*", "*/acme", "github.com/a*", "github.com/a/b/c", "github.com//x", "git hub.com"} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q) succeeded, want an error", bad)
		}
	}
	a, _ := ParsePattern("github.com/acme/*")
	b, _ := ParsePattern("github.com/*/app")
	c, _ := ParsePattern("github.com/other/*")
	if !a.Overlaps(b) || a.Overlaps(c) || a.Specificity() != b.Specificity() {
		t.Errorf("overlap/specificity wrong: %v %v %v", a.Overlaps(b), a.Overlaps(c), a.Specificity() == b.Specificity())
	}
	h, _ := ParsePattern("https://github.com/")
	if h.HasPath() || h.Host() != "github.com" || !h.Matches(ParseTarget("github.com", "")) {
		t.Errorf("host pattern %v wrong", h)
	}
}
