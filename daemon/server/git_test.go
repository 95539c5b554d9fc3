package server

import (
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/pump"
	"github.com/keyfob/keyfob/daemon/listen"
)

// exchangeGit sends raw bytes and reads one whole answer in git's terms.
func exchangeGit(t *testing.T, c conn, req string) string {
	t.Helper()
	if req != "" {
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatalf("send %q: %v", req, err)
		}
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b []byte
	buf := make([]byte, 4096)
	for pump.AnswerEnd(b) < 0 {
		n, err := c.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				break
			}
			t.Fatalf("read answer to %q: %v (so far %q)", req, err, b)
		}
	}
	return string(b)
}

// The agent answers git-credential-keyfob's framing in git's own terms,
// one exchange after another on a connection: the token for git, the
// state[] to a git that announced it, store and erase checked against the
// token served, silence for what keyfob does not serve.
func TestGitFraming(t *testing.T) {
	f := start(t, &Server{}, listen.Options{})
	defer f.stop()
	add := &client.Request{Op: client.OpAdd, Name: "personal", Meta: &client.TokenMeta{Hosts: []string{"github.com"}}, Secret: client.NewSecret(canary)}
	if _, err := client.Call(f.sock, add); err != nil {
		t.Fatalf("add: %v", err)
	}
	c, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fp := client.NewSecret(canary).Fingerprint()
	for _, tc := range []struct{ req, want string }{
		{"git get\nprotocol=https\nhost=github.com\n\n", "o username=x-access-token\no password=" + canary + "\nx 0\n"},
		{"git get\nurl=https://github.com/o/r.git\ncapability[]=state\n\n",
			"o capability[]=state\no username=x-access-token\no password=" + canary + "\no state[]=keyfob:" + fp + ":personal\nx 0\n"},
		{"git get\nprotocol=cert\npath=/home/u/c.p12\n\n", "x 0\n"},
		{"git get\nprotocol=https\nhost=example.org\n\n", "x 0\n"},
		{"git store\nprotocol=https\nhost=github.com\nusername=x-access-token\npassword=" + canary + "\n\n", "x 0\n"},
		{"git erase\nprotocol=https\nhost=github.com\nusername=x-access-token\npassword=not-the-token\n\n", "x 0\n"},
		{"git get\nprotocol=https\nhost=github.com\n\n", "o username=x-access-token\no password=" + canary + "\nx 0\n"},
	} {
		if got := exchangeGit(t, c, tc.req); got != tc.want {
			t.Errorf("%q: answer %q, want %q", tc.req, got, tc.want)
		}
	}
	b, _ := os.ReadFile(f.audit)
	if strings.Contains(string(b), canary) {
		t.Fatal("the audit log holds the token")
	}
	if !strings.Contains(string(b), `"op":"erase"`) || !strings.Contains(string(b), `"op":"store"`) {
		t.Errorf("store and erase are not in the audit log:\n%s", b)
	}
}

// Requests in git's terms that are not what git-credential-keyfob sends
// get one error line for the user and status 1, are audited as
// malformed, and end the connection.
func TestGitFramingMalformed(t *testing.T) {
	f := start(t, &Server{}, listen.Options{})
	defer f.stop()
	for _, tc := range []struct{ req, want string }{
		{"git get\nprotocol=https\nhost=git\rhub.com\n\n", "contains NUL or CR"},
		{"git get\nno equals\n\n", "want key=value"},
		{"git get\nprotocol=https\nhost=github.com\n", "no blank line"},
		{"git get\nurl=github.com\n\n", "no scheme"},
		{"git get\nhost=" + strings.Repeat("h", 70000) + "\n\n", "exceeds"},
		{"git get\nhost=h\n" + strings.Repeat("path="+strings.Repeat("p", 60000)+"\n", 2) + "\n", "exceeds 64 KiB"},
		{"git frobnicate\nhost=github.com\n\n", `want "git get"`},
	} {
		c, err := net.Dial("unix", f.sock)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(tc.req, "com\n") {
			c.Write([]byte(tc.req))
			c.(*net.UnixConn).CloseWrite()
			tc.req = ""
		}
		got := exchangeGit(t, c, tc.req)
		c.Close()
		if !strings.HasPrefix(got, "e keyfob: error: ") || !strings.Contains(got, tc.want) || !strings.HasSuffix(got, "\nx 1\n") {
			t.Errorf("%.60q: answer %q, want an error saying %q and status 1", tc.req, got, tc.want)
		}
	}
	b, _ := os.ReadFile(f.audit)
	if n := strings.Count(string(b), `"decision":"bad-request"`); n != 7 {
		t.Errorf("%d bad-request lines in the audit log, want 7:\n%s", n, b)
	}
}
