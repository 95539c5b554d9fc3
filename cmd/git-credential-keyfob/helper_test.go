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
func TestHelperNoAgent(t *testing.T) {
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

func TestHelperIgnoresUnknownOperations(t *testing.T) {
	var out, errb bytes.Buffer
	if code := client.GitHelper([]string{"frobnicate"}, strings.NewReader(""), &out, &errb); code != 0 || out.Len()+errb.Len() != 0 {
		t.Fatalf("GitHelper(frobnicate) = %d, %q, %q; want silence", code, out.String(), errb.String())
	}
	if code := client.GitHelper(nil, strings.NewReader(""), &out, &errb); code != 2 {
		t.Fatalf("GitHelper() = %d, want usage error 2", code)
	}
}

func TestHelperMalformedInput(t *testing.T) {
	t.Setenv("KEYFOB_SOCKET", filepath.Join(t.TempDir(), "none.sock"))
	for _, in := range []string{"protocol=https\nhost=git\rhub.com\n", "protocol=https\nhost=github.com\x00\n", "no equals\n"} {
		var out, errb bytes.Buffer
		code := client.GitHelper([]string{"get"}, strings.NewReader(in), &out, &errb)
		if code == 0 || out.Len() != 0 || !strings.HasPrefix(errb.String(), "keyfob: error: ") {
			t.Fatalf("GitHelper(get, %q) = %d, %q, %q; want 1 and one error line", in, code, out.String(), errb.String())
		}
	}
	_ = os.Stderr
}

// Requests keyfob does not serve get no answer and no word on stderr, and
// never reach the agent: here none runs, which would otherwise be said.
func TestHelperQuietForRequestsItDoesNotServe(t *testing.T) {
	t.Setenv("KEYFOB_SOCKET", filepath.Join(t.TempDir(), "none.sock"))
	t.Setenv("KEYFOB_AUTOSTART", "0")
	for _, in := range []string{
		"",
		"\n",
		"protocol=cert\nhost=\npath=home/u/client.p12\n\n",
		"protocol=smtp\nhost=mail.example.com\nusername=me\n\n",
		"protocol=smtps\nhost=mail.example.com:465\n\n",
		"protocol=ssh\nhost=github.com\n\n",
		"protocol=https\nhost=\n\n",
		"host=github.com\n\n",
		"url=cert:///home/u/client.p12\n",
	} {
		for _, op := range []string{"get", "store", "erase"} {
			var out, errb bytes.Buffer
			if code := client.GitHelper([]string{op}, strings.NewReader(in), &out, &errb); code != 0 || out.Len()+errb.Len() != 0 {
				t.Errorf("GitHelper(%s, %q) = %d, %q, %q; want 0 and silence", op, in, code, out.String(), errb.String())
			}
		}
	}
}

// git credential capability's format: the version, then what keyfob serves.
func TestHelperCapability(t *testing.T) {
	var out, errb bytes.Buffer
	if code := client.GitHelper([]string{"capability"}, strings.NewReader(""), &out, &errb); code != 0 || out.String() != "version 0\ncapability state\n" || errb.Len() != 0 {
		t.Fatalf("GitHelper(capability) = %d, %q, %q", code, out.String(), errb.String())
	}
}
