package doctor

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/daemon/policy"
)

// gitHome points git at a scratch global config holding cfg, and no
// system config.
func gitHome(t *testing.T, cfg string) string {
	t.Helper()
	home := t.TempDir()
	path := filepath.Join(home, ".gitconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", path)
	t.Setenv("GIT_CONFIG_COUNT", "")
	return path
}

func TestCredentialHosts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		toks   []policy.Token
		routes []policy.Route // compiled by the test
		want   []string
	}{
		{"nothing", nil, nil, []string{"github.com"}},
		{"tokens, lowered, once", []policy.Token{{Hosts: []string{"GitHub.com", "ghe.example.com:8443"}}, {Hosts: []string{"github.com"}}}, nil,
			[]string{"github.com", "ghe.example.com:8443"}},
		{"routes add their hosts", []policy.Token{{Hosts: []string{"github.com"}}},
			[]policy.Route{{Match: "github.com/acme/*"}, {Match: "127.0.0.1:3000/org"}, {Match: "*/bad"}},
			[]string{"github.com", "127.0.0.1:3000"}},
	} {
		if got := credentialHosts(tc.toks, policy.Compile(tc.routes)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: credentialHosts = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestContextMatches(t *testing.T) {
	for _, tc := range []struct {
		ctx, base string
		want      bool
	}{
		{"", "https://github.com", true},
		{"https://github.com", "https://github.com", true},
		{"https://GitHub.com/", "https://github.com", true},
		{"https://github.com/acme", "https://github.com", false},
		{"http://github.com", "https://github.com", false},
		{"https://github.com:8443", "https://github.com", false},
		{"github.com", "https://github.com", false},
	} {
		if got := contextMatches(tc.ctx, tc.base); got != tc.want {
			t.Errorf("contextMatches(%q, %q) = %v, want %v", tc.ctx, tc.base, got, tc.want)
		}
	}
}

func TestHelperKinds(t *testing.T) {
	for _, tc := range []struct {
		v             string
		keyfob, store bool
	}{
		{"keyfob", true, false},
		{`/opt/key\ fob/git-credential-keyfob`, true, false},
		{"store", false, true},
		{"store --file ~/.creds", false, true},
		{"/usr/lib/git-core/git-credential-store", false, true},
		{"cache --timeout 900", false, false},
		{"", false, false},
	} {
		if k, s := isKeyfob(tc.v), isStore(tc.v); k != tc.keyfob || s != tc.store {
			t.Errorf("isKeyfob, isStore(%q) = %v, %v; want %v, %v", tc.v, k, s, tc.keyfob, tc.store)
		}
	}
}

// The git checks read real git's config: which helpers answer for each
// host, in what order, and useHttpPath where routes need paths.
func TestGit(t *testing.T) {
	const kf = "/usr/local/bin/git-credential-keyfob"
	toks := []policy.Token{{Name: "p", Hosts: []string{"github.com"}}}
	pathRoute := []policy.Route{{Match: "github.com/acme/*", Token: "p"}}
	for _, tc := range []struct {
		name   string
		cfg    string
		toks   []policy.Token
		routes []policy.Route // compiled by the test
		want   []want
	}{
		{"no helpers", "", toks, nil,
			[]want{problem(CheckGit, "git does not ask keyfob for https://github.com", "keyfob setup git --host https://github.com")}},
		{"set up by keyfob setup git", "[credential \"https://github.com\"]\n\thelper =\n\thelper = " + kf + "\n\tuseHttpPath = true\n", toks, pathRoute,
			[]want{ok(CheckGit, "git asks keyfob first for https://github.com"), ok(CheckGit, "useHttpPath is on for https://github.com")}},
		{"keyfob without useHttpPath, repository routes", "[credential]\n\thelper = keyfob\n", toks, pathRoute,
			[]want{ok(CheckGit, "git asks keyfob first"),
				problem(CheckGit, "useHttpPath is off for https://github.com, which has repository routes (github.com/acme/*)", "keyfob setup git --host https://github.com")}},
		{"another helper first", "[credential]\n\thelper = cache\n\thelper = keyfob\n", toks, nil,
			[]want{problem(CheckGit, `helper "cache" (`, "keyfob setup git --host https://github.com")}},
		{"store after keyfob", "[credential]\n\thelper = keyfob\n\thelper = store\n", toks, nil,
			[]want{ok(CheckGit, "git asks keyfob first"),
				problem(CheckGit, "the plaintext store helper (", "delete keyfob's tokens from ~/.git-credentials")}},
		{"store reset for the host", "[credential]\n\thelper = store\n[credential \"https://github.com\"]\n\thelper =\n\thelper = keyfob\n", toks, nil,
			[]want{ok(CheckGit, "git asks keyfob first for https://github.com")}},
		{"keyfob for another host only", "[credential \"https://ghe.example.com\"]\n\thelper = keyfob\n", toks, nil,
			[]want{problem(CheckGit, "git does not ask keyfob for https://github.com", "")}},
		{"a loopback host is http", "[credential \"http://127.0.0.1:3000\"]\n\thelper = keyfob\n",
			[]policy.Token{{Hosts: []string{"127.0.0.1:3000"}}}, nil,
			[]want{ok(CheckGit, "git asks keyfob first for http://127.0.0.1:3000")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := gitHome(t, tc.cfg)
			r := &report{}
			r.git(tc.toks, policy.Compile(tc.routes))
			match(t, "git", r.findings, tc.want)
			for _, f := range r.findings {
				if strings.HasPrefix(f.Message, "helper ") || strings.HasPrefix(f.Message, "the plaintext") {
					if !strings.Contains(f.Message, path) {
						t.Errorf("git finding %q does not name %s", f.Message, path)
					}
				}
			}
		})
	}
}
