package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
)

// TestLeaks plants each kind of leak doctor knows, checks each finding and
// its fix (and that no token is printed), fixes them, and checks that the
// findings go away.
func TestLeaks(t *testing.T) {
	home := t.TempDir()
	state := filepath.Join(home, "state")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("GH_CONFIG_DIR", "")
	put := func(path, s string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	put(filepath.Join(home, ".git-credentials"), "https://bot:ghp_canaryLEAKGIT000000000000000000aaaa@github.com\n", 0o600)
	put(filepath.Join(home, ".config/gh/hosts.yml"), "github.com:\n    oauth_token: gho_canaryLEAKGH0000000000000000000bbbb\n    user: octocat\n", 0o600)
	put(filepath.Join(home, ".netrc"), "machine git.example.com login u password ghp_canaryLEAKNETRC00000000000000cccc\n", 0o600)
	put(filepath.Join(state, "audit.log"), "", 0o644)
	put(filepath.Join(state, "keyring", "keyfob.token.x"), "x", 0o644)
	if err := os.Chmod(state, 0o755); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(home, "config.toml")
	put(config, "", 0o666)
	env := []string{"GH_TOKEN=ghp_canaryLEAKENV0000000000000000000dddd", "PATH=/usr/bin"}

	r := &report{}
	r.leaks(Options{Home: home, Environ: env, StateDir: state, ConfigPath: config, Socket: filepath.Join(home, "none.sock")}.leakPlaces())
	match(t, "leaks", r.findings, []want{
		problem(CheckLeaks, "a plaintext token (ghp_****aaaa) for github.com at "+filepath.Join(home, ".git-credentials")+":1", "keyfob import git-credentials --remove"),
		problem(CheckLeaks, "a plaintext token (gho_****bbbb) for github.com at "+filepath.Join(home, ".config/gh/hosts.yml"), "keyfob import gh --remove"),
		problem(CheckLeaks, "a plaintext token (ghp_****cccc) for git.example.com at "+filepath.Join(home, ".netrc")+":1", "keyfob import netrc --remove"),
		problem(CheckLeaks, "GH_TOKEN is exported in this shell (ghp_****dddd)", "unset GH_TOKEN"),
		problem(CheckLeaks, state+" is mode 0755", "chmod 700 "+state),
		problem(CheckLeaks, "keyfob.token.x is mode 0644", "chmod 600 "),
		problem(CheckLeaks, "audit.log is mode 0644", "chmod 600 "),
		problem(CheckLeaks, "config.toml is mode 0666: others can change your routes", "chmod 600 "+config),
		ok(CheckLeaks, "plain gh does not go through keyfob"),
	})
	for _, f := range r.findings {
		if strings.Contains(f.Message+f.Hint, "canary") {
			t.Errorf("finding prints a token: %+v", f)
		}
	}

	// Fixed: the tokens gone from the files and the environment, the modes tight.
	for _, p := range []string{".git-credentials", ".config/gh/hosts.yml", ".netrc"} {
		os.Remove(filepath.Join(home, p))
	}
	os.Chmod(state, 0o700)
	os.Chmod(filepath.Join(state, "keyring", "keyfob.token.x"), 0o600)
	os.Chmod(filepath.Join(state, "audit.log"), 0o600)
	os.Chmod(config, 0o600)
	put(filepath.Join(home, ".bashrc"), "# mine\neval \"$(keyfob setup gh --shell bash)\"\n", 0o600)
	r = &report{}
	r.leaks(Options{Home: home, Environ: []string{"PATH=/usr/bin"}, StateDir: state, ConfigPath: config}.leakPlaces())
	match(t, "leaks after the fixes", r.findings, []want{ok(CheckLeaks, "no plaintext tokens"), ok(CheckLeaks, "plain gh goes through keyfob exec in new shells ("+filepath.Join(home, ".bashrc")+")")})
}

// TestAppRoutesAreNotMissingTokens: a route that names a GitHub App is not
// reported as naming a missing token, and an agent holding only an app
// does not hold "no tokens".
func TestAppRoutesAreNotMissingTokens(t *testing.T) {
	call := func(_ string, req *client.Request) (*client.Response, error) {
		switch req.Op {
		case client.OpStatus:
			return &client.Response{Status: &client.Status{PID: 7, Backend: "file", Apps: 1}}, nil
		case client.OpList:
			return &client.Response{Apps: []client.AppInfo{{Name: "ci", Hosts: []string{"github.com"}}}}, nil
		}
		return nil, nil
	}
	r := &report{}
	toks, _ := r.agent("/run/k/agent.sock", call)
	config := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(config, []byte("[[route]]\nmatch = \"github.com/acme/*\"\ntoken = \"ci\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.config(config, toks)
	for _, f := range r.findings {
		if f.Level == Problem {
			t.Errorf("problem for an agent with an app and a route to it: %+v", f)
		}
	}
}
