package client

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelperStderrPrefixes runs the helper through every path that writes
// to stderr and checks the output rule at the top of helper.go: each line
// starts "keyfob: error: ", "keyfob: warning: " or "keyfob: hint: ", and
// each path says what it says as the kind it is.
func TestHelperStderrPrefixes(t *testing.T) {
	get := "protocol=https\nhost=github.com\npath=acme/app.git\n\n"
	for _, tc := range []struct {
		name   string
		args   []string
		stdin  string
		answer string // the fake agent's one answer; "-" for no agent
		setup  func(t *testing.T, run string)
		want   []string // the lines' kinds and a part of each, in order
	}{
		{name: "usage", args: []string{}, answer: "-", want: []string{"keyfob: error: usage: git-credential-keyfob"}},
		{name: "unreadable request", stdin: "no equals sign\n\n", answer: "-", want: []string{"keyfob: error: "}},
		{name: "agent not running", answer: "-", setup: defaultSocket,
			want: []string{"keyfob: hint: agent not running at ", "start it with: keyfob serve"}},
		{name: "nothing at KEYFOB_SOCKET", answer: "-",
			want: []string{"keyfob: hint: nothing answers at ", "or the grant has ended"}},
		{name: "service manager has not started it", answer: "-", setup: managedSocket,
			want: []string{"keyfob: hint: agent not running at ", "its service manager has not started it"}},
		{name: "agent cannot be started", answer: "-", setup: unstartable,
			want: []string{"keyfob: error: start the agent: "}},
		{name: "locked", answer: `{"v":1,"code":"locked","error":"keyfob is locked (wrong passphrase)","hint":"run keyfob unlock"}`,
			want: []string{"keyfob: warning: keyfob is locked: run keyfob unlock"}},
		{name: "no token, with a reason", answer: `{"v":1,"code":"not_found","error":"ambiguous: tokens a, b all allow github.com\nsecond line","hint":"add a route"}`,
			want: []string{"keyfob: warning: ambiguous: tokens a, b all allow github.com second line", "keyfob: hint: add a route"}},
		{name: "no token, quietly", answer: `{"v":1,"code":"not_found","error":"no token for this remote"}`},
		{name: "denied", answer: `{"v":1,"code":"denied","error":"route acme/* refuses","hint":"fix the route"}`,
			want: []string{"keyfob: error: route acme/* refuses", "keyfob: hint: fix the route"}},
		{name: "warnings with the token", answer: `{"v":1,"username":"x-access-token","secret":"ghp_fake","warnings":["token t is due for rotation\nrun keyfob rotate t"]}`,
			want: []string{"keyfob: warning: token t is due for rotation run keyfob rotate t"}},
		{name: "answer with a line break", answer: `{"v":1,"username":"x\npassword=evil","secret":"ghp_fake"}`,
			want: []string{"keyfob: error: refusing the answer from "}},
		{name: "connection closed without an answer", answer: "-", setup: closingSocket, want: []string{"keyfob: error: "}},
		{name: "http refused", stdin: "protocol=http\nhost=github.com\n\n", answer: `{"v":1,"code":"denied","error":"refusing to send a token over plain http to github.com"}`,
			want: []string{"keyfob: error: refusing to send a token over plain http"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := shortTemp(t)
			t.Setenv("XDG_RUNTIME_DIR", run)
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			t.Setenv("XDG_STATE_HOME", t.TempDir())
			t.Setenv(AutostartEnv, "0")
			sock := filepath.Join(run, "grant.sock")
			t.Setenv("KEYFOB_SOCKET", sock)
			if tc.setup != nil {
				tc.setup(t, run)
			}
			if tc.answer != "-" {
				startFake(t, sock, tc.answer)
			}
			args, stdin := tc.args, tc.stdin
			if args == nil {
				args = []string{"get"}
			}
			if stdin == "" {
				stdin = get
			}
			var out, errb bytes.Buffer
			GitHelper(args, strings.NewReader(stdin), &out, &errb)
			if strings.Contains(out.String(), "keyfob:") {
				t.Errorf("stdout = %q: diagnostics belong on stderr", out.String())
			}
			lines := strings.SplitAfter(errb.String(), "\n")
			if lines[len(lines)-1] == "" {
				lines = lines[:len(lines)-1]
			}
			for _, l := range lines {
				if !strings.HasSuffix(l, "\n") || !(strings.HasPrefix(l, "keyfob: error: ") || strings.HasPrefix(l, "keyfob: warning: ") || strings.HasPrefix(l, "keyfob: hint: ")) {
					t.Errorf("stderr line %q does not start with keyfob: error|warning|hint: (or is not a whole line)", l)
				}
			}
			if len(tc.want) == 0 && len(lines) != 0 {
				t.Errorf("stderr = %q, want nothing", errb.String())
			}
			rest := errb.String()
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("stderr = %q, want %q (in this order)", errb.String(), w)
					break
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// defaultSocket makes the helper use the default socket, with no agent.
func defaultSocket(t *testing.T, run string) { t.Setenv("KEYFOB_SOCKET", "") }

// managedSocket is the default socket under an enabled keyfob.socket unit
// of a running systemd user instance that has not started the agent.
func managedSocket(t *testing.T, run string) {
	defaultSocket(t, run)
	t.Setenv(AutostartEnv, "1")
	mustMkdir(t, filepath.Join(run, "systemd"))
	if err := os.WriteFile(filepath.Join(run, "systemd", "private"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wants := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "systemd", "user", "sockets.target.wants")
	mustMkdir(t, wants)
	if err := os.Symlink("../keyfob.socket", filepath.Join(wants, "keyfob.socket")); err != nil {
		t.Fatal(err)
	}
}

// unstartable is the default socket with autostart on and no keyfob to
// start.
func unstartable(t *testing.T, run string) {
	defaultSocket(t, run)
	t.Setenv(AutostartEnv, "1")
	t.Setenv("PATH", t.TempDir())
}

// closingSocket is an agent at KEYFOB_SOCKET that closes each connection
// at once, without an answer.
func closingSocket(t *testing.T, run string) {
	l, err := net.Listen("unix", os.Getenv("KEYFOB_SOCKET"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}
