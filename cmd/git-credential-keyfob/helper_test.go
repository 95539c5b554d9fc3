package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// helperBin is git-credential-keyfob, built as make build builds it: the
// tests run the helper as git does, a process with stdin, stdout, stderr
// and an exit status.
var helperBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kfhelper")
	if err != nil {
		panic(err)
	}
	helperBin = filepath.Join(dir, "git-credential-keyfob")
	build := exec.Command("go", "build", "-o", helperBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.WriteString("build git-credential-keyfob: " + err.Error() + "\n" + string(out))
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// helper runs git-credential-keyfob with args and stdin, in an environment
// of its own: no agent, no keyfob on PATH unless env says so.
func helper(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return helperIn(t, "", env, stdin, args...)
}

// helperIn is helper, run in the directory dir (as git runs it in the
// worktree).
func helperIn(t *testing.T, dir string, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(helperBin, args...)
	cmd.Dir = dir
	run := t.TempDir()
	cmd.Env = []string{"PATH=" + t.TempDir(), "HOME=" + run, "XDG_RUNTIME_DIR=" + run, "KEYFOB_AUTOSTART=0"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run helper: %v", err)
	}
	return code, out.String(), errb.String()
}

// With no agent and no keyfob to hand the request to, the helper says
// nothing on stdout (git moves on to its next helper or the prompt) and
// one hint on stderr.
func TestHelperNoAgent(t *testing.T) {
	for _, tc := range []struct {
		name, socket, want string
	}{
		{"default socket", "", "agent not running"},
		{"KEYFOB_SOCKET, a grant that ended", filepath.Join(t.TempDir(), "grant.sock"), "the grant has ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errb := helper(t, map[string]string{"KEYFOB_SOCKET": tc.socket}, "protocol=https\nhost=github.com\n\n", "get")
			if code != 0 || out != "" {
				t.Fatalf("helper get = %d, stdout %q; want 0 and nothing", code, out)
			}
			if n := strings.Count(errb, "\n"); n != 1 || !strings.Contains(errb, tc.want) || !strings.HasPrefix(errb, "keyfob: hint: ") {
				t.Fatalf("stderr = %q, want one hint saying %q", errb, tc.want)
			}
		})
	}
}

// When no agent answers, the helper hands git's request to keyfob
// git-credential (which may start the agent), with git's lines on its
// stdin, and exits with its status; what keyfob writes reaches git.
func TestHelperHandsOverWhenNoAgent(t *testing.T) {
	bin := t.TempDir()
	got := filepath.Join(t.TempDir(), "got")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" > " + got + "\n/bin/cat >> " + got + "\necho username=x-access-token\necho password=from-keyfob\necho 'keyfob: hint: started' >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(bin, "keyfob"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errb := helper(t, map[string]string{"PATH": bin, "KEYFOB_AUTOSTART": "1"}, "protocol=https\nhost=github.com\nwwwauth[]=Basic realm=\"GitHub\"\n\n", "get")
	if code != 3 || out != "username=x-access-token\npassword=from-keyfob\n" || errb != "keyfob: hint: started\n" {
		t.Fatalf("helper get = %d, %q, %q; want keyfob's answer and status", code, out, errb)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if want := "git-credential get\nprotocol=https\nhost=github.com\n"; string(b) != want {
		t.Fatalf("keyfob got %q, want %q", b, want)
	}
}

// git runs the helper in the repository's worktree. A keyfob the
// repository carries is never run, though PATH names it through a
// relative entry ("", ".", "bin"): only the one beside the helper or in
// an absolute directory on PATH is the user's.
func TestHelperNeverRunsTheRepositorysKeyfob(t *testing.T) {
	worktree := t.TempDir()
	ran := filepath.Join(t.TempDir(), "ran")
	planted := []byte("#!/bin/sh\necho \"$0\" >> " + ran + "\necho password=planted\n")
	for _, p := range []string{"keyfob", "bin/keyfob"} {
		p = filepath.Join(worktree, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, planted, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := strings.Join([]string{".", "bin", "", t.TempDir()}, string(filepath.ListSeparator))
	code, out, errb := helperIn(t, worktree, map[string]string{"PATH": path, "KEYFOB_AUTOSTART": "1"}, "protocol=https\nhost=github.com\n\n", "get")
	if b, err := os.ReadFile(ran); err == nil {
		t.Fatalf("the helper ran the repository's keyfob: %s", b)
	}
	if code != 0 || out != "" || !strings.Contains(errb, "agent not running") {
		t.Fatalf("helper get = %d, %q, %q; want 0, nothing, and a hint that no agent runs", code, out, errb)
	}
}

// Only a get that may start the agent runs keyfob: with autostart off, an
// explicit KEYFOB_SOCKET, or a store or erase, the helper says what to do
// itself, and no keyfob process starts on every fetch.
func TestHelperHandsOverOnlyToStart(t *testing.T) {
	bin := t.TempDir()
	ran := filepath.Join(t.TempDir(), "ran")
	if err := os.WriteFile(filepath.Join(bin, "keyfob"), []byte("#!/bin/sh\n: > "+ran+"\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, op string
		env      map[string]string
	}{
		{"autostart off", "get", map[string]string{"KEYFOB_AUTOSTART": "off"}},
		{"an explicit socket", "get", map[string]string{"KEYFOB_AUTOSTART": "1", "KEYFOB_SOCKET": filepath.Join(t.TempDir(), "none.sock")}},
		{"store", "store", map[string]string{"KEYFOB_AUTOSTART": "1"}},
		{"erase", "erase", map[string]string{"KEYFOB_AUTOSTART": "1"}},
	} {
		tc.env["PATH"] = bin
		code, out, errb := helper(t, tc.env, "protocol=https\nhost=github.com\nusername=u\npassword=p\n\n", tc.op)
		if code != 0 || out != "" || !strings.HasPrefix(errb, "keyfob: hint: ") || strings.Count(errb, "\n") != 1 {
			t.Errorf("%s: helper %s = %d, %q, %q; want 0 and one hint", tc.name, tc.op, code, out, errb)
		}
		if _, err := os.Stat(ran); err == nil {
			t.Fatalf("%s: the helper ran keyfob", tc.name)
		}
	}
}

func TestHelperIgnoresUnknownOperations(t *testing.T) {
	if code, out, errb := helper(t, nil, "", "frobnicate"); code != 0 || out+errb != "" {
		t.Fatalf("helper frobnicate = %d, %q, %q; want silence", code, out, errb)
	}
	if code, _, errb := helper(t, nil, ""); code != 2 || !strings.HasPrefix(errb, "keyfob: error: usage") {
		t.Fatalf("helper with no op = %d, %q; want usage error 2", code, errb)
	}
}

func TestHelperMalformedInput(t *testing.T) {
	for _, in := range []string{
		"protocol=https\nhost=git\rhub.com\n",
		"protocol=https\nhost=github.com\x00\n",
		"no equals\n",
		"protocol=https\nwwwauth[]=a\x00b\nhost=github.com\n",
		"protocol=https\nhost=" + strings.Repeat("a", 65535) + "\n",
	} {
		code, out, errb := helper(t, map[string]string{"KEYFOB_SOCKET": filepath.Join(t.TempDir(), "none.sock")}, in, "get")
		if code != 1 || out != "" || !strings.HasPrefix(errb, "keyfob: error: ") || strings.Count(errb, "\n") != 1 {
			t.Fatalf("helper get %.40q = %d, %q, %q; want 1 and one error line", in, code, out, errb)
		}
	}
}

// Requests keyfob does not serve get no answer and no word on stderr, and
// never reach the agent: here none runs, which would otherwise be said.
func TestHelperQuietForRequestsItDoesNotServe(t *testing.T) {
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
		"protocol=https\nhost=github.com\nurl=smtp://mail.example.com\n",
	} {
		for _, op := range []string{"get", "store", "erase"} {
			if code, out, errb := helper(t, map[string]string{"KEYFOB_SOCKET": filepath.Join(t.TempDir(), "none.sock")}, in, op); code != 0 || out+errb != "" {
				t.Errorf("helper %s %q = %d, %q, %q; want 0 and silence", op, in, code, out, errb)
			}
		}
	}
}

// git credential capability's format: the version, then what keyfob serves.
func TestHelperCapability(t *testing.T) {
	if code, out, errb := helper(t, nil, "", "capability"); code != 0 || out != "version 0\ncapability state\n" || errb != "" {
		t.Fatalf("helper capability = %d, %q, %q", code, out, errb)
	}
}

// An answer that is not keyfob's whole answer gives git nothing: a line
// that would split git's stream, a line that is not an attribute, an
// answer cut short, a JSON line from an agent that did not read the
// request. The listener here is of the helper's own uid, so only the
// answer's shape is at stake.
func TestHelperRefusesBadAnswers(t *testing.T) {
	for _, tc := range []struct{ answer, want string }{
		{"o username=u\no password=p\rq\nx 0\n", "refusing the answer"},
		{"o username=u\no password=p\x00\nx 0\n", "refusing the answer"},
		{"o username\nx 0\n", "refusing the answer"},
		{"o username=u\nq what\nx 0\n", "refusing the answer"},
		{"o username=u\no password=p\n", "before the end of its answer"},
		{"e keyfob: warning: w\no password=p\nx 0\n", "refusing the answer"},
		{"o password=p\nx 999\n", "refusing the answer"},
		{`{"v":1,"code":"unavailable","error":"agent busy: too many connections"}` + "\n", "is busy"},
		{`{"v":1,"code":"bad-request","error":"malformed request"}` + "\n", "does not speak this helper's protocol"},
	} {
		sock := filepath.Join(t.TempDir(), "agent.sock")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			c, err := l.Accept()
			if err != nil {
				got <- ""
				return
			}
			defer c.Close()
			buf := make([]byte, 4096)
			n, _ := c.Read(buf)
			c.Write([]byte(tc.answer))
			got <- string(buf[:n])
		}()
		code, out, errb := helper(t, map[string]string{"KEYFOB_SOCKET": sock}, "protocol=https\nhost=github.com\n\n", "get")
		l.Close()
		if req := <-got; req != "git get\nprotocol=https\nhost=github.com\n\n" {
			t.Errorf("the agent got %q", req)
		}
		if code != 0 || out != "" || !strings.Contains(errb, tc.want) || strings.Count(errb, "\n") != 1 {
			t.Errorf("answer %q: helper = %d, stdout %q, stderr %q; want nothing for git and one line saying %q", tc.answer, code, out, errb, tc.want)
		}
	}
}

// keyfob's whole answer is copied as it is: git's lines to stdout, the
// user's to stderr, and the status.
func TestHelperCopiesTheAnswer(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		c.Read(buf)
		c.Write([]byte("o username=x-access-token\no password=canary-not-a-token\ne keyfob: warning: rotate soon\nx 0\n"))
	}()
	code, out, errb := helper(t, map[string]string{"KEYFOB_SOCKET": sock}, "protocol=https\nhost=github.com\n\n", "get")
	if code != 0 || out != "username=x-access-token\npassword=canary-not-a-token\n" || errb != "keyfob: warning: rotate soon\n" {
		t.Fatalf("helper = %d, %q, %q", code, out, errb)
	}
}
