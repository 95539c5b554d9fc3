package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// [[remember]] takes a route's match syntax, and "*" for every host; a bad
// match is refused with its file and line, and the set travels with the
// routes.
func TestRemember(t *testing.T) {
	src := `[[route]]
match = "github.com"
token = "personal"

[[remember]]
match = "gitlab.example.com"

[[remember]]
match = "git.corp.example:8443/team"
`
	c, err := Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Table.Remember()
	if got, want := r.Matches(), []string{"gitlab.example.com", "git.corp.example:8443/team"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Matches() = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		host, path string
		want       bool
	}{
		{"gitlab.example.com", "", true},
		{"GitLab.Example.com", "g/app.git", true},
		{"github.com", "", false},
		{"gitlab.example.com.evil", "", false},
		{"git.corp.example:8443", "team/app.git", true},
		{"git.corp.example:8443", "", false}, // the path names the owner: git must send it
		{"git.corp.example:8443", "other/app.git", false},
		{"git.corp.example", "team/app.git", false},
	} {
		if got := r.Covers(tc.host, tc.path); got != tc.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tc.host, tc.path, got, tc.want)
		}
	}
	all, err := Parse("c.toml", []byte("[[remember]]\nmatch = \"*\"\n"))
	if err != nil || !all.Table.Remember().Covers("anything.example", "") {
		t.Errorf("match = \"*\": %v, want every host", err)
	}
	for _, tc := range []struct{ src, want string }{
		{"[[remember]]\nmatch = \"\"\n", "c.toml:1: remember: match is missing"},
		{"\n[[remember]]\nmatch = \"a/b/c/d\"\n", "c.toml:2: remember: match \"a/b/c/d\": want host[:port][/owner[/repo]]"},
		{"[[remember]]\nmatch = \"*/acme\"\n", "c.toml:1: remember: match \"*/acme\": the host cannot be *"},
		{"[[remember]]\nmatch = \"h\"\ntoken = \"x\"\n", "c.toml:3: unknown key \"remember.token\""},
	} {
		_, err := Parse("c.toml", []byte(tc.src))
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
}
