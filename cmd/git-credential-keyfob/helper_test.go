package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
)

// With no agent, the helper says nothing on stdout (git moves on to its
// next helper or the prompt) and one hint on stderr.
func TestNoAgent(t *testing.T) {
	for _, tc := range []struct {
		name, socket, want string
	}{
		{"default socket", "", "agent not running"},
		{"KEYFOB_SOCKET, a grant that ended", filepath.Join(t.TempDir(), "grant.sock"), "the grant has ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := t.TempDir()
			t.Setenv("XDG_RUNTIME_DIR", run)
			t.Setenv("KEYFOB_SOCKET", tc.socket)
			t.Setenv("KEYFOB_AUTOSTART", "0")
			var out, errb bytes.Buffer
			code := client.GitHelper([]string{"get"}, strings.NewReader("protocol=https\nhost=github.com\n\n"), &out, &errb)
			if code != 0 || out.Len() != 0 {
				t.Fatalf("GitHelper(get) = %d, stdout %q; want 0 and nothing", code, out.String())
			}
			if n := strings.Count(errb.String(), "\n"); n != 1 || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("stderr = %q, want one line saying %q", errb.String(), tc.want)
			}
		})
	}
}

func TestIgnoresUnknownOperations(t *testing.T) {
	var out, errb bytes.Buffer
	if code := client.GitHelper([]string{"frobnicate"}, strings.NewReader(""), &out, &errb); code != 0 || out.Len()+errb.Len() != 0 {
		t.Fatalf("GitHelper(frobnicate) = %d, %q, %q; want silence", code, out.String(), errb.String())
	}
	if code := client.GitHelper(nil, strings.NewReader(""), &out, &errb); code != 2 {
		t.Fatalf("GitHelper() = %d, want usage error 2", code)
	}
}

func TestMalformedInput(t *testing.T) {
	t.Setenv("KEYFOB_SOCKET", filepath.Join(t.TempDir(), "none.sock"))
	var out, errb bytes.Buffer
	code := client.GitHelper([]string{"get"}, strings.NewReader("host=github.com\r\n"), &out, &errb)
	if code == 0 || out.Len() != 0 || !strings.HasPrefix(errb.String(), "keyfob: error: ") {
		t.Fatalf("GitHelper(CR input) = %d, %q, %q", code, out.String(), errb.String())
	}
	_ = os.Stderr
}
