package setup

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const helper = `/opt/key\ fob/git-credential-keyfob`

func TestPlan(t *testing.T) {
	const u = "https://github.com"
	const key = "credential.https://github.com.helper"
	unset := Step{"--global", "--unset-all", key}
	reset := Step{"--global", "--add", key, ""}
	add := Step{"--global", "--add", key, helper}
	path := Step{"--global", "credential.https://github.com.useHttpPath", "true"}
	for _, tc := range []struct {
		name string
		cur  GitState
		want []Step
	}{
		{"nothing set", GitState{}, []Step{reset, add, path}},
		{"already set up", GitState{Helpers: []string{"", helper}, UseHTTPPath: true}, nil},
		{"helpers right, useHttpPath off", GitState{Helpers: []string{"", helper}}, []Step{path}},
		{"useHttpPath on, no helper", GitState{UseHTTPPath: true}, []Step{reset, add}},
		{"another helper", GitState{Helpers: []string{"store"}, UseHTTPPath: true}, []Step{unset, reset, add}},
		{"keyfob without the reset", GitState{Helpers: []string{helper}}, []Step{unset, reset, add, path}},
		{"keyfob, then store", GitState{Helpers: []string{"", helper, "store"}, UseHTTPPath: true}, []Step{unset, reset, add}},
		{"an older keyfob path", GitState{Helpers: []string{"", "/usr/bin/git-credential-keyfob"}, UseHTTPPath: true}, []Step{unset, reset, add}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Plan(u, helper, tc.cur)
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("Plan(%q, %+v) = %q, want %q", u, tc.cur, got, tc.want)
			}
		})
	}
}

func TestStepString(t *testing.T) {
	for _, tc := range []struct {
		step Step
		want string
	}{
		{Step{"--global", "--add", "credential.https://github.com.helper", ""}, "git config --global --add credential.https://github.com.helper ''"},
		{Step{"--global", "--add", "k", helper}, `git config --global --add k '/opt/key\ fob/git-credential-keyfob'`},
		{Step{"--global", "k", "it's"}, `git config --global k 'it'\''s'`},
		{Undo("http://127.0.0.1:8080")[0], "git config --global --unset-all credential.http://127.0.0.1:8080.helper"},
		{Undo("http://127.0.0.1:8080")[1], "git config --global --unset credential.http://127.0.0.1:8080.useHttpPath"},
	} {
		if got := tc.step.String(); got != tc.want {
			t.Errorf("%q.String() = %s, want %s", []string(tc.step), got, tc.want)
		}
	}
}

func TestCredentialURL(t *testing.T) {
	for _, tc := range []struct {
		host, want, err string
	}{
		{"github.com", "https://github.com", ""},
		{"GitHub.com:8443", "https://github.com:8443", ""},
		{"https://ghe.example.com/", "https://ghe.example.com", ""},
		{"http://127.0.0.1:3000", "http://127.0.0.1:3000", ""},
		{"http://localhost", "http://localhost", ""},
		{"http://example.com", "", "plain http only for loopback hosts"},
		{"ssh://github.com", "", "plain http only for loopback hosts"},
		{"github.com/acme", "", "want host[:port]"},
		{"https://me@github.com", "", "want host[:port]"},
		{"https://", "", "want host[:port]"},
	} {
		got, err := CredentialURL(tc.host)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("CredentialURL(%q) = %q, %v; want %q", tc.host, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("CredentialURL(%q) = %q, %v; want an error saying %q", tc.host, got, err, tc.err)
		}
	}
}

func TestShellQuotePath(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/local/bin/git-credential-keyfob": "/usr/local/bin/git-credential-keyfob",
		"/home/a b/bin/x":                      `/home/a\ b/bin/x`,
		"/tmp/$x;y'z":                          `/tmp/\$x\;y\'z`,
	} {
		if got := shellQuotePath(in); got != want {
			t.Errorf("shellQuotePath(%q) = %s, want %s", in, got, want)
		}
	}
}

// gitHome points git at a scratch global config and no system config.
func gitHome(t *testing.T) string {
	home := t.TempDir()
	cfg := filepath.Join(home, ".gitconfig")
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", cfg)
	return cfg
}

// Current reads what real git has, and the steps Plan returns bring git to
// the state where Plan has nothing left to do.
func TestPlanAgainstGit(t *testing.T) {
	cfg := gitHome(t)
	const u = "http://127.0.0.1:8080"
	for _, s := range []Step{{"--global", "--add", helperKey(u), "store"}, {"--global", "credential.helper", "cache"}} {
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := Current(u)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cur.Helpers, []string{"store"}) || cur.UseHTTPPath {
		t.Fatalf("Current(%q) = %+v, want helpers [store] and useHttpPath off", u, cur)
	}
	for _, s := range Plan(u, helper, cur) {
		if err := s.Run(); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if cur, err = Current(u); err != nil || !slices.Equal(cur.Helpers, []string{"", helper}) || !cur.UseHTTPPath {
		t.Fatalf("Current(%q) after the plan = %+v, %v; want keyfob alone with useHttpPath on", u, cur, err)
	}
	if steps := Plan(u, helper, cur); len(steps) != 0 {
		t.Errorf("Plan after applying it = %q, want nothing", steps)
	}
	if v, _ := GitConfig("--global", "--get", "credential.helper"); strings.TrimSpace(v) != "cache" {
		t.Errorf("credential.helper = %q, want the global helper left alone", v)
	}
	for _, s := range Undo(u) {
		if err := s.Run(); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if cur, err = Current(u); err != nil || len(cur.Helpers) != 0 || cur.UseHTTPPath {
		t.Errorf("Current(%q) after Undo = %+v, %v; want nothing set", u, cur, err)
	}
	if _, err := os.Stat(cfg); err != nil {
		t.Errorf("global config %s: %v", cfg, err)
	}
}

func TestGitConfigMissingKey(t *testing.T) {
	gitHome(t)
	if out, err := GitConfig("--global", "--get", "credential.nothing.helper"); out != "" || err != nil {
		t.Errorf("GitConfig(--get missing) = %q, %v; want empty and nil", out, err)
	}
	if _, err := GitConfig("--global", "--no-such-flag"); err == nil || !strings.Contains(err.Error(), "git config --global --no-such-flag") {
		t.Errorf("GitConfig(--no-such-flag) = %v, want an error naming the command", err)
	}
}

func TestPlanHostRefusesBadHost(t *testing.T) {
	for _, h := range []string{"http://example.com", "https://example.com/path", "https://user@example.com"} {
		if _, _, err := PlanHost(h, "/bin/helper"); !errors.Is(err, ErrHost) {
			t.Errorf("PlanHost(%q) = %v, want ErrHost", h, err)
		}
	}
}
