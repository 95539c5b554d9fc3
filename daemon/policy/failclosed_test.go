package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestCanonicalPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{"acme/app.git", "acme/app.git", false},
		{"/acme/app.git/", "acme/app.git", false},
		{"acme//app.git", "acme/app.git", false},
		{"./acme/./app.git", "acme/app.git", false},
		{"acme/app.git/info/refs", "acme/app.git/info/refs", false},
		{"", "", false},
		{"acme/../evil/app.git", "", true},
		{"acme/app.git/../../evil/x", "", true},
		{"..", "", true},
		{"acme%2Fapp", "", true},
		{"acme%2fapp", "", true},
		{"%2e%2e/evil/x", "", true},
		{`acme\..\evil`, "", true},
		{"acme/app\x00", "", true},
		{"acme/app\r", "", true},
		{"acme/app\x1b[2J", "", true},
		{"acme/\x7fapp", "", true},
		{"acme/app\u0085", "", true},
		{"acme/app\x01", "", true},
		{"acme/äpp.git", "acme/äpp.git", false},
	} {
		got, err := CanonicalPath(tc.in)
		if tc.bad {
			if err == nil || !errors.Is(err, ErrBadPath) {
				t.Errorf("CanonicalPath(%q) = %q, %v, want ErrBadPath", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CanonicalPath(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestPathTricksNeverReachAnotherRoute sends, for a repository of one
// owner, every path trick an attacker would try, and checks that none gets
// another owner's token or falls back to the host's token.
func TestPathTricksNeverReachAnotherRoute(t *testing.T) {
	toks := []Token{
		{Name: "acme", Hosts: []string{"github.com"}, Username: "x-access-token"},
		{Name: "personal", Hosts: []string{"github.com"}, Username: "x-access-token"},
	}
	routes := []Route{{Match: "github.com/acme/*", Token: "acme"}, {Match: "github.com", Token: "personal"}}
	for _, path := range []string{
		"acme/../other/x.git", "other/../acme/x.git", "acme/x.git/../../other/y",
		"acme%2Fx.git", "..%2Fother/x", `acme\..\other\x`, "acme/%2e%2e/other",
	} {
		d := Decide(Request{Protocol: "https", Host: "github.com", Path: path, Now: testNow}, toks, Compile(routes))
		if d.Outcome != Denied || d.Token != "" {
			t.Errorf("Decide(path %q) = %v %q (%s), want Denied with no token", path, d.Outcome, d.Token, d.Reason)
		}
	}
	// Normalised forms read as GitHub reads them.
	for path, want := range map[string]string{"acme//x.git": "acme", "./acme/x.git": "acme", "/other//x.git/": "personal"} {
		d := Decide(Request{Protocol: "https", Host: "github.com", Path: path, Now: testNow}, toks, Compile(routes))
		if d.Outcome != Granted || d.Token != want {
			t.Errorf("Decide(path %q) = %v %q, want %q", path, d.Outcome, d.Token, want)
		}
	}
}

// TestUnusableRouteAnswersNothing: a route whose token cannot answer gives
// nothing, never a less specific route's token or the host's other tokens.
func TestUnusableRouteAnswersNothing(t *testing.T) {
	expired := testNow.Add(-time.Hour)
	for _, tc := range []struct {
		name string
		tok  Token
		want string
	}{
		{"expired", Token{Name: "acme", Hosts: []string{"github.com"}, Username: "x-access-token", Expires: expired}, "expired"},
		{"expires this instant", Token{Name: "acme", Hosts: []string{"github.com"}, Username: "x-access-token", Expires: testNow}, "expired"},
		{"invalid", Token{Name: "acme", Hosts: []string{"github.com"}, Username: "x-access-token", Unusable: "token acme is invalid (401): run keyfob rotate acme"}, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toks := []Token{tc.tok,
				{Name: "org", Hosts: []string{"github.com"}, Username: "x-access-token"},
				{Name: "personal", Hosts: []string{"github.com"}, Username: "x-access-token"}}
			routes := []Route{
				{Match: "github.com/acme/app", Token: "acme"},
				{Match: "github.com/acme/*", Token: "org"},
				{Match: "github.com", Token: "personal"},
			}
			d := Decide(Request{Protocol: "https", Host: "github.com", Path: "acme/app.git", Now: testNow}, toks, Compile(routes))
			if d.Outcome != NoMatch || d.Token != "" || !strings.Contains(d.Reason, tc.want) || !strings.Contains(d.Reason, "keyfob rotate acme") {
				t.Fatalf("Decide = %v %q (%s), want NoMatch naming %s and keyfob rotate", d.Outcome, d.Token, d.Reason, tc.want)
			}
			// The other repositories are unaffected.
			d = Decide(Request{Protocol: "https", Host: "github.com", Path: "acme/other.git", Now: testNow}, toks, Compile(routes))
			if d.Token != "org" {
				t.Errorf("Decide(acme/other) = %q, want org", d.Token)
			}
		})
	}
}

// TestExpiredTokensDoNotMakeAHostAmbiguous: with no route, an expired token
// is not a candidate, so the host's one live token answers; and an expired
// token alone answers nothing, saying how to fix it.
func TestExpiredTokensDoNotMakeAHostAmbiguous(t *testing.T) {
	old := Token{Name: "old", Hosts: []string{"github.com"}, Username: "x-access-token", Expires: testNow.Add(-time.Minute)}
	live := Token{Name: "live", Hosts: []string{"github.com"}, Username: "x-access-token", Expires: testNow.Add(time.Hour)}
	r := Request{Protocol: "https", Host: "github.com", Path: "x/y.git", Now: testNow}
	if d := Decide(r, []Token{old, live}, nil); d.Outcome != Granted || d.Token != "live" {
		t.Errorf("Decide(old, live) = %v %q (%s), want live", d.Outcome, d.Token, d.Reason)
	}
	if d := Decide(r, []Token{old}, nil); d.Outcome != NoMatch || !strings.Contains(d.Reason, "keyfob rotate old") {
		t.Errorf("Decide(old) = %v %q (%s), want NoMatch naming keyfob rotate old", d.Outcome, d.Token, d.Reason)
	}
	// Later, the live one has expired too.
	r.Now = testNow.Add(2 * time.Hour)
	if d := Decide(r, []Token{old, live}, nil); d.Outcome != NoMatch {
		t.Errorf("Decide after both expired = %v %q, want NoMatch", d.Outcome, d.Token)
	}
}
