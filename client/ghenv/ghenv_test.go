package ghenv

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
)

func TestEnterprise(t *testing.T) {
	for _, tc := range []struct {
		hosts []string
		want  bool
	}{
		{nil, false},
		{[]string{"github.com"}, false},
		{[]string{"GitHub.com:443"}, false},
		{[]string{"github.com", "ghe.corp"}, true},
		{[]string{"ghe.corp:8443"}, true},
	} {
		if got := Enterprise(tc.hosts); got != tc.want {
			t.Errorf("Enterprise(%q) = %v, want %v", tc.hosts, got, tc.want)
		}
	}
}

func TestEnv(t *testing.T) {
	env := []string{"PATH=/bin", "GH_TOKEN=old", "GH_ENTERPRISE_TOKEN=old"}
	tok := client.NewSecret("ghp_canaryEXEC")
	tests := []struct {
		hosts []string
		want  []string
	}{
		{[]string{"github.com"}, []string{"PATH=/bin", "GH_TOKEN=ghp_canaryEXEC", "GITHUB_TOKEN=ghp_canaryEXEC"}},
		{[]string{"ghe.corp:8443"}, []string{"PATH=/bin", "GH_TOKEN=ghp_canaryEXEC", "GITHUB_TOKEN=ghp_canaryEXEC", "GH_ENTERPRISE_TOKEN=ghp_canaryEXEC", "GITHUB_ENTERPRISE_TOKEN=ghp_canaryEXEC"}},
	}
	for _, tt := range tests {
		if got := Env(env, tok, Enterprise(tt.hosts)); !slices.Equal(got, tt.want) {
			t.Errorf("Env(%v) = %q, want %q", tt.hosts, got, tt.want)
		}
	}
}

func TestWithHost(t *testing.T) {
	got := WithHost([]string{"GH_HOST=github.com", "PATH=/bin"}, "ghe.corp:8443")
	if want := []string{"PATH=/bin", "GH_HOST=ghe.corp:8443"}; !slices.Equal(got, want) {
		t.Errorf("WithHost = %q, want %q", got, want)
	}
}

func TestRunExitStatus(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{`[ "$GITHUB_TOKEN" = ghp_canaryRUN ]`, 0},
		{"exit 7", 7},
		{"kill -KILL $$", 128 + int(syscall.SIGKILL)},
	} {
		got, err := Run([]string{"sh", "-c", tc.script}, strings.NewReader(""), io.Discard, io.Discard, client.NewSecret("ghp_canaryRUN"), false)
		if err != nil || got != tc.want {
			t.Errorf("Run(sh -c %q) = %d, %v; want %d", tc.script, got, err, tc.want)
		}
	}
	if _, err := Run([]string{"keyfob-no-such-command"}, nil, io.Discard, io.Discard, client.Secret{}, false); err == nil || !strings.Contains(err.Error(), "exec keyfob-no-such-command") {
		t.Errorf("Run(a missing command) = %v, want an error naming it", err)
	}
}

// A SIGTERM to the process reaches the command, whose exit status comes
// back.
func TestRunForwardsSignals(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	script := `trap 'exit 42' TERM; [ "$GH_TOKEN" = ghp_canarySIGNAL ] || exit 3; touch "$READY"; while :; do sleep 0.05; done`
	t.Setenv("READY", ready)
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := Run([]string{"sh", "-c", script}, strings.NewReader(""), io.Discard, io.Discard, client.NewSecret("ghp_canarySIGNAL"), false)
		done <- result{code, err}
	}()
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("command ended before it was ready: %d, %v", r.code, r.err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.code != 42 || r.err != nil {
		t.Fatalf("Run after SIGTERM = %d, %v; want exit status 42", r.code, r.err)
	}
}

func TestTokenEnv(t *testing.T) {
	tok := client.NewSecret("ghp_canaryTOKENENV")
	ghe := func(h string) bool { return h == "ghe.example.com" }
	noList := func() (*client.Response, error) { t.Error("list called for a request by URL"); return nil, nil }
	byURL := func(host string) *client.Request {
		return &client.Request{Op: client.OpToken, Cred: &client.Credential{Protocol: "https", Host: host, Path: "o/r"}}
	}
	env := TokenEnv([]string{"GH_HOST=old"}, byURL("github.com"), &client.Response{Secret: tok, Token: "p"}, noList, ghe)
	if !slices.Equal(env, []string{"GH_HOST=old", "GH_TOKEN=ghp_canaryTOKENENV", "GITHUB_TOKEN=ghp_canaryTOKENENV"}) {
		t.Errorf("TokenEnv(github.com) = %q", env)
	}
	env = TokenEnv([]string{"GH_HOST=old"}, byURL("ghe.example.com"), &client.Response{Secret: tok, Token: "w"}, noList, ghe)
	if !slices.Contains(env, "GH_ENTERPRISE_TOKEN=ghp_canaryTOKENENV") || !slices.Contains(env, "GH_HOST=ghe.example.com") || slices.Contains(env, "GH_HOST=old") {
		t.Errorf("TokenEnv(ghe.example.com) = %q, want the Enterprise token and GH_HOST", env)
	}
	list := func() (*client.Response, error) {
		return &client.Response{Tokens: []client.TokenInfo{{Name: "w", Hosts: []string{"ghe.example.com"}}}}, nil
	}
	env = TokenEnv(nil, &client.Request{Op: client.OpToken, Name: "w"}, &client.Response{Secret: tok, Token: "w"}, list, ghe)
	if !slices.Contains(env, "GH_ENTERPRISE_TOKEN=ghp_canaryTOKENENV") || slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "GH_HOST=") }) {
		t.Errorf("TokenEnv(by name) = %q, want the Enterprise token from the inventory, no GH_HOST", env)
	}
}
