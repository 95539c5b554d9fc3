package policy

import (
	"strings"
	"testing"
)

func TestCheckRoutes(t *testing.T) {
	tests := []struct {
		name   string
		routes []Route
		want   []string // substrings, one per problem, in order
	}{
		{"distinct owners", []Route{{Match: "github.com/acme/*", Token: "a", Source: "c:1"}, {Match: "github.com/globex/*", Token: "g", Source: "c:5"}}, nil},
		{"nested is more specific", []Route{{Match: "github.com", Token: "p", Source: "c:1"}, {Match: "github.com/acme", Token: "a", Source: "c:5"}, {Match: "github.com/acme/app", Token: "x", Source: "c:9"}}, nil},
		{"wildcard tie", []Route{{Match: "github.com/*/app", Token: "app", Source: "c:1"}, {Match: "github.com/acme/*", Token: "org", Source: "c:5"}},
			[]string{"c:5: route github.com/acme/* (token org) ties with github.com/*/app at c:1 (token app)"}},
		{"same match, other token", []Route{{Match: "github.com/acme/*", Token: "a", Source: "c:1"}, {Match: "GitHub.com/acme/*", Token: "b", Source: "c:5"}},
			[]string{"c:5: route GitHub.com/acme/* (token b) ties with"}},
		{"same match, same token", []Route{{Match: "github.com/acme/*", Token: "a", Source: "c:1"}, {Match: "github.com/acme/*", Token: "a", Source: "c:5"}}, nil},
		{"different hosts never tie", []Route{{Match: "github.com/acme/*", Token: "a", Source: "c:1"}, {Match: "ghe.corp/acme/*", Token: "b", Source: "c:5"}}, nil},
		{"bad match", []Route{{Match: "github.com/a*/x", Token: "a", Source: "c:1"}}, []string{"c:1: route: match"}},
		{"missing token", []Route{{Match: "github.com/acme", Token: "", Source: "c:1"}}, []string{"c:1: route github.com/acme: token is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckRoutes(tt.routes)
			if len(got) != len(tt.want) {
				t.Fatalf("CheckRoutes(%v) = %v, want %d problems", tt.routes, got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].Error(), w) {
					t.Errorf("CheckRoutes(%v)[%d] = %q, want it to contain %q", tt.routes, i, got[i].Error(), w)
				}
			}
		})
	}
}

func TestCheckTokens(t *testing.T) {
	toks := []Token{{Name: "acme", Hosts: []string{"github.com"}}, {Name: "corp", Hosts: []string{"ghe.corp:8443"}}}
	tests := []struct {
		route Route
		want  string
	}{
		{Route{Match: "github.com/acme/*", Token: "acme", Source: "c:1"}, ""},
		{Route{Match: "ghe.corp:8443/x", Token: "corp", Source: "c:1"}, ""},
		{Route{Match: "github.com/acme/*", Token: "nope", Source: "c:3"}, `c:3: route github.com/acme/* names token "nope", which does not exist`},
		{Route{Match: "ghe.corp/x", Token: "corp", Source: "c:4"}, "c:4: route ghe.corp/x names token corp, whose hosts (ghe.corp:8443) do not include ghe.corp"},
		{Route{Match: "github.com/*/app", Token: "corp", Source: "c:5"}, "whose hosts (ghe.corp:8443) do not include github.com"},
	}
	for _, tt := range tests {
		got := CheckTokens(Compile([]Route{tt.route}), toks)
		switch {
		case tt.want == "" && len(got) != 0:
			t.Errorf("CheckTokens(%v) = %v, want none", tt.route, got)
		case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0].Error(), tt.want)):
			t.Errorf("CheckTokens(%v) = %v, want %q", tt.route, got, tt.want)
		}
	}
}

func TestDecideRoutes(t *testing.T) {
	toks := []Token{
		{Name: "acme", Hosts: []string{"github.com"}},
		{Name: "personal", Hosts: []string{"github.com"}},
		{Name: "corp", Hosts: []string{"ghe.corp"}},
		{Name: "vault", Hosts: []string{"github.com"}},
	}
	routes := []Route{
		{Match: "github.com/acme/*", Token: "acme", Source: "c:1"},
		{Match: "github.com/ghost/*", Token: "missing", Source: "c:5"},
		{Match: "github.com/wrong/*", Token: "corp", Source: "c:9"},
		{Match: "github.com/acme/secret", Token: "vault", Source: "c:13"},
	}
	tests := []struct {
		path, user string
		outcome    Outcome
		token      string
		reason     string
		pathRoutes bool
	}{
		{"acme/app.git", "", Granted, "acme", "route github.com/acme/* (c:1)", false},
		{"acme/secret.git", "", Granted, "vault", "route github.com/acme/secret (c:13)", false},
		{"other/app.git", "", Granted, "personal", "its allowlist has github.com", false},
		// a broken route answers nothing: no fallback to personal
		{"ghost/app.git", "", NoMatch, "", `names token "missing", which does not exist`, false},
		{"wrong/app.git", "", NoMatch, "", "whose allowlist does not have github.com", false},
		// no path: only host-level decisions, and the hint flag
		{"", "", Granted, "personal", "its allowlist has github.com", true},
	}
	for _, tt := range tests {
		d := Explain(Request{Protocol: "https", Host: "github.com", Path: tt.path, Username: tt.user}, toks, Compile(routes))
		if d.Outcome != tt.outcome || d.Token != tt.token || !strings.Contains(d.Reason, tt.reason) || d.PathRoutes != tt.pathRoutes {
			t.Errorf("Decide(%q) = %v %q %q pathRoutes=%v, want %v %q %q pathRoutes=%v",
				tt.path, d.Outcome, d.Token, d.Reason, d.PathRoutes, tt.outcome, tt.token, tt.reason, tt.pathRoutes)
		}
		for _, c := range d.Candidates {
			if c.Token == "corp" && c.Reason != "host github.com is not in its allowlist" {
				t.Errorf("Decide(%q): corp's reason = %q, want the allowlist", tt.path, c.Reason)
			}
		}
	}
}

func TestHasPathRoutes(t *testing.T) {
	routes := []Route{{Match: "github.com"}, {Match: "GHE.corp/acme"}}
	for host, want := range map[string]bool{"github.com": false, "ghe.corp": true, "other": false} {
		if got := Compile(routes).HasPathRoutes(host); got != want {
			t.Errorf("HasPathRoutes(%q) = %v, want %v", host, got, want)
		}
	}
}
