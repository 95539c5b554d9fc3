package policy

import (
	"reflect"
	"strings"
	"testing"
)

// Permissions and require_repo narrow what an app mints; on a stored
// token they could only mislead, so CheckTokens reports them.
func TestNarrowingNeedsAnApp(t *testing.T) {
	toks := []Token{{Name: "pat", Hosts: []string{"github.com"}}, {Name: "ci", Hosts: []string{"github.com"}, App: true}}
	routes := []Route{
		{Match: "github.com/acme", Token: "ci", Permissions: NewPermissions(map[string]string{"contents": "read"}), RequireRepo: true, Source: "c:1"},
		{Match: "github.com/globex", Token: "pat", Permissions: NewPermissions(map[string]string{"contents": "read"}), Source: "c:5"},
	}
	probs := CheckTokens(Compile(routes), toks)
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), "c:5: route github.com/globex sets permissions or require_repo") {
		t.Errorf("CheckTokens = %v, want one problem for the stored token's route", probs)
	}
	d := Decide(Request{Protocol: "https", Host: "github.com", Path: "acme/app.git"}, toks, Compile(routes))
	if d.Outcome != Granted || d.Token != "ci" || !reflect.DeepEqual(d.Matched, routes[0]) {
		t.Errorf("Decide = %+v, want ci through the acme route, with the route in Matched", d)
	}
}
