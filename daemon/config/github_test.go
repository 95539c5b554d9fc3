package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/policy"
)

func TestGitHubHosts(t *testing.T) {
	src := `# hosts
[[github]]
host = "GHE.example.com"

[[github]]
host = "127.0.0.1:8443"
api  = "http://127.0.0.1:9000/api/v3/"
web  = "http://127.0.0.1:9000"
`
	c, err := Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	want := []github.Host{
		{Name: "ghe.example.com", Source: "c.toml:2"},
		{Name: "127.0.0.1:8443", API: "http://127.0.0.1:9000/api/v3", Web: "http://127.0.0.1:9000", Source: "c.toml:5"},
	}
	if !reflect.DeepEqual(c.GitHub, want) {
		t.Errorf("GitHub = %+v, want %+v", c.GitHub, want)
	}

	for _, tc := range []struct{ src, want string }{
		{"[[github]]\napi = \"https://x/api/v3\"\n", "c.toml:1: github: host is missing"},
		{"[[github]]\nhost = \"https://ghe.example.com\"\n", "c.toml:1: github: host \"https://ghe.example.com\": want host[:port]"},
		{"[[github]]\nhost = \"github.com\"\n", "github.com needs no [[github]] table"},
		{"[[github]]\nhost = \"a.example\"\n[[github]]\nhost = \"A.example\"\n", "c.toml:3: github: host a.example is declared twice (first at c.toml:1)"},
		{"[[github]]\nhost = \"a.example\"\napi = \"http://a.example/api/v3\"\n", "plain http only for a loopback host"},
		{"[[github]]\nhost = \"a.example\"\nweb = \"a.example\"\n", "want an absolute URL"},
		{"[[github]]\nhost = \"a.example\"\napi = \"https://u:p@a.example/api/v3\"\n", "no user, query or fragment"},
		{"[[github]]\nhost = \"a.example\"\napy = \"https://a.example/api/v3\"\n", "c.toml:3: unknown key \"github.apy\""},
	} {
		_, err := Parse("c.toml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.src, err, tc.want)
		}
	}
}

// The watcher hands every config that loads its [[github]] hosts, and
// leaves the hosts in force when a file is refused.
func TestWatcherSetsGitHubHosts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	var got [][]github.Host
	w := &Watcher{Path: path, Set: func(*policy.Table, string) {}, SetGitHub: func(h []github.Host) { got = append(got, h) }}
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("[[github]]\nhost = \"a.example\"\n")
	_ = w.Load()
	write("[[github]]\nhost = \"b.example\"\napi = \"https://b.example/api/v3\"\n")
	_ = w.Load()
	write("[[github]]\nhost = \n")
	if w.Load() == nil {
		t.Fatal("a broken file loaded")
	}
	if len(got) != 2 || got[0][0].Name != "a.example" || got[1][0].Name != "b.example" || got[1][0].API != "https://b.example/api/v3" {
		t.Fatalf("SetGitHub got %+v, want a.example then b.example, and nothing for the refused file", got)
	}
}

func TestLoadGitHubHosts(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	if err := os.WriteFile(good, []byte("[[github]]\nhost = \"ghe.example.com\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[[github]]\nhost = \"github.com\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want bool
	}{{good, true}, {bad, false}, {filepath.Join(dir, "none.toml"), false}} {
		h := GitHubHosts(c.path, "", "")
		if got := h.IsEnterprise("ghe.example.com"); got != c.want {
			t.Errorf("GitHubHosts(%s).IsEnterprise(ghe.example.com) = %v, want %v", filepath.Base(c.path), got, c.want)
		}
		if !h.IsEnterprise("acme.ghe.com") {
			t.Errorf("GitHubHosts(%s) lost GHE.com", filepath.Base(c.path))
		}
	}
}
