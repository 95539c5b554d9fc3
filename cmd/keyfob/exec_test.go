package main

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

func TestHTTPSRemote(t *testing.T) {
	tests := map[string]string{
		"git@github.com:acme/app.git":           "https://github.com/acme/app.git",
		"ssh://git@github.com/acme/app.git":     "https://github.com/acme/app.git",
		"ssh://git@ghe.corp:2222/acme/app.git":  "https://ghe.corp/acme/app.git",
		"https://alice@github.com/acme/app.git": "https://alice@github.com/acme/app.git",
		"http://127.0.0.1:8080/acme/app.git":    "http://127.0.0.1:8080/acme/app.git",
		"github.com/acme/app":                   "github.com/acme/app",
	}
	for in, want := range tests {
		if got := httpsRemote(in); got != want {
			t.Errorf("httpsRemote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenEnv(t *testing.T) {
	env := []string{"PATH=/bin", "GH_TOKEN=old", "GH_ENTERPRISE_TOKEN=old"}
	tok := client.NewSecret("ghp_canaryEXEC")
	tests := []struct {
		hosts []string
		want  []string
	}{
		{[]string{"github.com"}, []string{"PATH=/bin", "GH_TOKEN=ghp_canaryEXEC", "GITHUB_TOKEN=ghp_canaryEXEC"}},
		{[]string{"ghe.corp:8443"}, []string{"PATH=/bin", "GH_TOKEN=ghp_canaryEXEC", "GITHUB_TOKEN=ghp_canaryEXEC", "GH_ENTERPRISE_TOKEN=ghp_canaryEXEC"}},
	}
	for _, tt := range tests {
		if got := tokenEnv(env, tok, enterprise(tt.hosts)); !slices.Equal(got, tt.want) {
			t.Errorf("tokenEnv(%v) = %q, want %q", tt.hosts, got, tt.want)
		}
	}
}

// TestExecForwardsSignals: a SIGTERM to keyfob exec reaches the command,
// whose exit status comes back as keyfob's.
func TestExecForwardsSignals(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	script := `trap 'exit 42' TERM; [ "$GH_TOKEN" = ghp_canarySIGNAL ] || exit 3; touch "$READY"; while :; do sleep 0.05; done`
	t.Setenv("READY", ready)
	done := make(chan error, 1)
	go func() {
		done <- runWithToken(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard},
			[]string{"sh", "-c", script}, client.NewSecret("ghp_canarySIGNAL"), false)
	}()
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("command ended before it was ready: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != exitError(42) {
		t.Fatalf("runWithToken after SIGTERM = %v, want exit status 42", err)
	}
}
