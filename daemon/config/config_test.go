package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/daemon/policy"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		routes  []policy.Route
		wantErr []string // "line: message" fragments, in order
	}{
		{
			name:   "empty",
			src:    "# nothing yet\n",
			routes: nil,
		},
		{
			name: "routes with sources",
			src: `# keyfob
[[route]]
match = "github.com/acme/*"
token = "github:fine-grained-acme"

[[route]]
  match = "github.com"   # everything else
  token = "personal"
`,
			routes: []policy.Route{
				{Match: "github.com/acme/*", Token: "github:fine-grained-acme", Source: "c.toml:2"},
				{Match: "github.com", Token: "personal", Source: "c.toml:6"},
			},
		},
		{
			name:    "syntax error",
			src:     "[[route]]\nmatch = github.com\n",
			wantErr: []string{"c.toml:2: syntax: "},
		},
		{
			name:    "unknown key in a route",
			src:     "[[route]]\nmatch = \"github.com\"\ntoken = \"p\"\n\n[[route]]\nmatch = \"github.com/a\"\ntokne = \"a\"\n",
			wantErr: []string{`c.toml:7: unknown key "route.tokne"`, "c.toml:5: route github.com/a: token is missing"},
		},
		{
			name:    "unknown section",
			src:     "[agnet]\nauto_lock = \"15m\"\n",
			wantErr: []string{`c.toml:1: unknown key "agnet"`, `c.toml:2: unknown key "agnet.auto_lock"`},
		},
		{
			name:    "unknown key after a multi-line string",
			src:     "[[route]]\nmatch = \"github.com\"\ntoken = \"\"\"\nx = 1\n\"\"\"\nroutes = 2\n",
			wantErr: []string{`c.toml:6: unknown key "route.routes"`},
		},
		{
			name:    "tie",
			src:     "[[route]]\nmatch = \"github.com/*/app\"\ntoken = \"a\"\n[[route]]\nmatch = \"github.com/acme/*\"\ntoken = \"b\"\n",
			wantErr: []string{"c.toml:4: route github.com/acme/* (token b) ties with github.com/*/app at c.toml:1 (token a)"},
		},
		{
			name:    "bad match",
			src:     "[[route]]\nmatch = \"github.com/ac*me\"\ntoken = \"a\"\n",
			wantErr: []string{"c.toml:1: route: match"},
		},
		{
			name:    "missing match",
			src:     "[[route]]\ntoken = \"a\"\n",
			wantErr: []string{"c.toml:1: route: match is missing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("c.toml", []byte(tt.src))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Parse = %v, want no error", err)
				}
				got := c.Table.Routes()
				if len(got) != len(tt.routes) {
					t.Fatalf("Parse routes = %v, want %v", got, tt.routes)
				}
				for i := range tt.routes {
					if !reflect.DeepEqual(got[i], tt.routes[i]) {
						t.Errorf("Parse route %d = %+v, want %+v", i, got[i], tt.routes[i])
					}
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse = %v, want a *config.Error", err)
			}
			if len(ce.Problems) != len(tt.wantErr) {
				t.Fatalf("Parse problems = %q, want %q", err, tt.wantErr)
			}
			for i, w := range tt.wantErr {
				if !strings.HasPrefix(ce.Problems[i].Error(), w) {
					t.Errorf("Parse problem %d = %q, want prefix %q", i, ce.Problems[i].Error(), w)
				}
			}
		})
	}
}

func TestLoadMissingAndCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	c, err := Load(path)
	if err != nil || c.Exists || c.Table.Len() != 0 {
		t.Fatalf("Load(missing) = %+v, %v, want an empty config", c, err)
	}
	src := "[[route]]\nmatch = \"github.com/acme/*\"\ntoken = \"acme\"\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Check([]policy.Token{{Name: "personal", Hosts: []string{"github.com"}}})
	if err == nil || !strings.HasPrefix(err.Error(), path+":1: route github.com/acme/* names token \"acme\", which does not exist") {
		t.Errorf("Check = %v, want an unknown-token error at %s:1", err, path)
	}
	if err := c.Check([]policy.Token{{Name: "acme", Hosts: []string{"github.com"}}}); err != nil {
		t.Errorf("Check = %v, want nil", err)
	}
}

func TestRoutePermissions(t *testing.T) {
	c, err := Parse("config.toml", []byte(`
[[route]]
match = "github.com/acme/*"
token = "ci-app"
permissions = { contents = "read", pull_requests = "write" }
require_repo = true
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Table.Routes()[0]
	if r.Permissions.String() != "contents:read,pull_requests:write" || !r.RequireRepo {
		t.Errorf("Parse = %+v, want permissions and require_repo", r)
	}
	_, err = Parse("config.toml", []byte(`
[[route]]
match = "github.com/acme/*"
token = "ci-app"
permissions = { contents = "reed" }
`))
	if err == nil || !strings.Contains(err.Error(), `config.toml:2: route: permission contents = "reed": want read, write or admin`) {
		t.Errorf("Parse(bad level) = %v, want the line and the allowed levels", err)
	}
}
