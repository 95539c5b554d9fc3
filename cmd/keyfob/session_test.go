package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/contrib"
)

// These tests run keyfob as a session runs it: systemd's tools on the units,
// the agent under socket activation with a notify socket, and the helper
// starting the agent itself. They build real binaries.

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (make deps installs it)", name)
	}
	return p
}

// buildBinaries builds keyfob and git-credential-keyfob into one directory,
// as an install has them, and returns that directory.
func buildBinaries(t *testing.T, ldflags string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "-ldflags", ldflags,
		"github.com/keyfob/keyfob/cmd/keyfob", "github.com/keyfob/keyfob/cmd/git-credential-keyfob")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// session is a private home for one agent: XDG directories, the file
// backend with its passphrase, no session bus.
type session struct {
	home, run, sock string
	env             []string
}

func newSession(t *testing.T) *session {
	t.Helper()
	s := &session{home: t.TempDir(), run: t.TempDir()}
	if err := os.Chmod(s.run, 0o700); err != nil {
		t.Fatal(err)
	}
	s.sock = filepath.Join(s.run, "keyfob", "agent.sock")
	s.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.home,
		"XDG_RUNTIME_DIR=" + s.run,
		"XDG_STATE_HOME=" + filepath.Join(s.home, ".local/state"),
		"XDG_CONFIG_HOME=" + filepath.Join(s.home, ".config"),
		"KEYFOB_BACKEND=file",
		"KEYFOB_FILE_PASSPHRASE=correct horse battery staple",
		"DBUS_SESSION_BUS_ADDRESS=disabled:",
	}
	return s
}

func (s *session) getenv(k string) string {
	for _, kv := range s.env {
		if v, ok := strings.CutPrefix(kv, k+"="); ok {
			return v
		}
	}
	return ""
}

// waitAnswer waits until the agent answers a status request.
func waitAnswer(t *testing.T, sock string) *client.Status {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Call(sock, &client.Request{Op: client.OpStatus})
		if err == nil && resp.Status != nil {
			return resp.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent at %s did not answer: %v", sock, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// unitDir copies the units into a directory with ExecStart naming exe.
func unitDir(t *testing.T, exe string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range contrib.Units {
		b, err := contrib.Unit(name, exe)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// verifyUnits runs systemd-analyze verify, as the system and as a user
// instance, on the units in dir. Unknown keys only warn, so any output on
// stderr fails.
func verifyUnits(t *testing.T, dir string) {
	t.Helper()
	tool := needTool(t, "systemd-analyze")
	for _, mode := range [][]string{{"verify"}, {"--user", "verify"}} {
		cmd := exec.Command(tool, append(mode, "keyfob.socket", "keyfob.service")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+t.TempDir(), "SYSTEMD_LOG_COLOR=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if err != nil || stderr.Len() > 0 {
			t.Errorf("systemd-analyze %s: %v\n%s", strings.Join(mode, " "), err, stderr.String())
		}
	}
}

func TestUnitsVerify(t *testing.T) {
	bin := buildBinaries(t, "-s -w")
	verifyUnits(t, unitDir(t, filepath.Join(bin, "keyfob")))
}

// The units as shipped name /usr/local/bin/keyfob; a unit naming a missing
// executable must fail verification, or the test above proves nothing.
func TestUnitsVerifyCatchesMissingExecutable(t *testing.T) {
	tool := needTool(t, "systemd-analyze")
	dir := unitDir(t, filepath.Join(t.TempDir(), "no-such-keyfob"))
	cmd := exec.Command(tool, "verify", "keyfob.socket", "keyfob.service")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil && len(out) == 0 {
		t.Fatal("systemd-analyze verify accepted a unit whose ExecStart does not exist")
	}
}

// docs/security.md quotes the exposure score of keyfob.service; it must be
// the score systemd-analyze gives the unit as it is.
func TestSecurityScoreDocumented(t *testing.T) {
	tool := needTool(t, "systemd-analyze")
	dir := unitDir(t, "/bin/sh")
	cmd := exec.Command(tool, "security", "--offline=yes", "--no-pager", "keyfob.service")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_COLOR=0", "SYSTEMD_COLORS=0")
	out, _ := cmd.CombinedOutput() // exits non-zero above its threshold
	m := regexp.MustCompile(`Overall exposure level for keyfob\.service: ([0-9.]+) (\w+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: no score in\n%s", out)
	}
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("exposure level for keyfob.service: %s %s", m[1], m[2])
	if !bytes.Contains(doc, []byte(want)) {
		t.Errorf("docs/security.md does not quote %q", want)
	}
}

func TestSetupSystemd(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("KEYFOB_SOCKET", filepath.Join(t.TempDir(), "none.sock"))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unitDir := filepath.Join(cfg, "systemd", "user")
	setup := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := runWith(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, append([]string{"setup", "systemd"}, args...)); code != 0 {
			t.Fatalf("keyfob setup systemd %v = %d\n%s%s", args, code, out.String(), errb.String())
		}
		return out.String()
	}

	out := setup("--dry-run")
	if _, err := os.Stat(unitDir); err == nil {
		t.Fatalf("setup systemd --dry-run created %s", unitDir)
	}
	if !strings.Contains(out, "would write "+filepath.Join(unitDir, "keyfob.service")) || !strings.Contains(out, "ExecStart="+exe+" serve") {
		t.Errorf("setup systemd --dry-run printed\n%s", out)
	}

	out = setup()
	for _, name := range contrib.Units {
		if !strings.Contains(out, "wrote "+filepath.Join(unitDir, name)) {
			t.Errorf("setup systemd did not write %s:\n%s", name, out)
		}
	}
	if !strings.Contains(out, "systemctl --user enable --now keyfob.socket") {
		t.Errorf("setup systemd does not say how to enable the socket:\n%s", out)
	}
	svc, err := os.ReadFile(filepath.Join(unitDir, "keyfob.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svc, []byte("\nExecStart="+exe+" serve\n")) {
		t.Errorf("keyfob.service does not start %s:\n%s", exe, svc)
	}
	verifyUnits(t, unitDir)

	out = setup()
	if strings.Contains(out, "wrote") || strings.Count(out, "up to date") != len(contrib.Units) || strings.Contains(out, "daemon-reload") {
		t.Errorf("second setup systemd changed something:\n%s", out)
	}
}

// notifySocket listens like systemd's notify socket and returns its path
// and the messages it receives, one per datagram.
func notifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ch := make(chan string, 100)
	go func() {
		defer close(ch)
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return path, ch
}

// waitNotify reads messages until one has the line want, and returns the
// lines read before it.
func waitNotify(t *testing.T, ch <-chan string, want string) []string {
	t.Helper()
	var seen []string
	timeout := time.After(15 * time.Second)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("notify socket closed before %s; got %q", want, seen)
			}
			for _, l := range strings.Split(m, "\n") {
				if l == want {
					return seen
				}
				seen = append(seen, l)
			}
		case <-timeout:
			t.Fatalf("no %s from the agent; got %q", want, seen)
		}
	}
}

// checkActivatedAgent drives an agent that was started on sock with
// NOTIFY_SOCKET: READY=1, then a served request, a status line that follows
// lock, and STOPPING=1 on SIGTERM.
func checkActivatedAgent(t *testing.T, cmd *exec.Cmd, sock string, notes <-chan string, watchdog bool) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	waitFile(t, sock)

	// The first connection is what makes systemd-socket-activate start the
	// agent, so the request goes out before READY=1 can arrive.
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan error, 1)
	var resp *client.Response
	go func() {
		var err error
		resp, err = c.Do(&client.Request{Op: client.OpStatus})
		got <- err
	}()
	waitNotify(t, notes, "READY=1")
	if err := <-got; err != nil {
		t.Fatalf("status over the activated socket: %v\n%s", err, stderr.String())
	}
	s := resp.Status
	if s == nil || s.PID != cmd.Process.Pid || s.Locked || s.Socket != sock {
		t.Fatalf("status = %+v, want pid %d, unlocked, socket %s", s, cmd.Process.Pid, sock)
	}
	// The passphrase came in KEYFOB_FILE_PASSPHRASE; the agent re-executed
	// itself without it, keeping its pid and the activated socket.
	if environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", s.PID)); err == nil && bytes.Contains(environ, []byte("KEYFOB_FILE_PASSPHRASE")) {
		t.Errorf("the agent's /proc/%d/environ still holds KEYFOB_FILE_PASSPHRASE", s.PID)
	}
	if watchdog {
		waitNotify(t, notes, "WATCHDOG=1")
	}
	if _, err := c.Do(&client.Request{Op: client.OpLock}); err != nil {
		t.Fatalf("lock: %v", err)
	}
	waitNotify(t, notes, "STATUS=locked")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitNotify(t, notes, "STOPPING=1")
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("agent exited with %v after SIGTERM\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("agent did not exit after SIGTERM\n%s", stderr.String())
	}
	// The stop logs its own reason, not the keyfob lock's before it.
	var stopped bool
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "\tlocked\t") {
			stopped = strings.Contains(l, `"reason": "agent stopped"`)
		}
	}
	if !stopped {
		t.Errorf("the agent's last locked line after SIGTERM does not give agent stopped as the reason\n%s", stderr.String())
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeSystemdSocketActivate(t *testing.T) {
	tool := needTool(t, "systemd-socket-activate")
	bin := buildBinaries(t, "-s -w")
	s := newSession(t)
	if err := os.Mkdir(filepath.Dir(s.sock), 0o700); err != nil {
		t.Fatal(err)
	}
	notifyPath, notes := notifySocket(t)
	args := []string{"-l", s.sock, "--fdname=agent", "-E", "NOTIFY_SOCKET=" + notifyPath}
	for _, kv := range s.env {
		args = append(args, "-E", kv)
	}
	args = append(args, filepath.Join(bin, "keyfob"), "serve")
	checkActivatedAgent(t, exec.Command(tool, args...), s.sock, notes, false)
}

func TestServeGoActivated(t *testing.T) {
	bin := buildBinaries(t, "-s -w")
	s := newSession(t)
	if err := os.Mkdir(filepath.Dir(s.sock), 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: s.sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	f, err := l.File()
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	defer f.Close()
	notifyPath, notes := notifySocket(t)
	// LISTEN_PID must be the agent's pid: the shell sets its own and execs.
	cmd := exec.Command("sh", "-c", `LISTEN_PID=$$ exec "$0" serve`, filepath.Join(bin, "keyfob"))
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = append(s.env, "LISTEN_FDS=1", "LISTEN_FDNAMES=agent", "NOTIFY_SOCKET="+notifyPath, "WATCHDOG_USEC=200000")
	checkActivatedAgent(t, cmd, s.sock, notes, true)
}

// When stderr is the journal (JOURNAL_STREAM names it), the agent logs to
// the journal with fields, not as text. The binary is built to send to a
// journal socket this test owns.
func TestServeLogsToJournal(t *testing.T) {
	jdir := t.TempDir()
	jsock := filepath.Join(jdir, "journal.sock")
	bin := buildBinaries(t, "-X github.com/coreos/go-systemd/v22/journal.journalSocket="+jsock)
	jc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: jsock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer jc.Close()
	s := newSession(t)
	stderr, err := os.Create(filepath.Join(jdir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(stderr.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "keyfob"), "serve")
	cmd.Env = append(s.env, fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino))
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()

	want := map[string]string{"MESSAGE": "serving", "PRIORITY": "6", "SYSLOG_IDENTIFIER": "keyfob", "SOCKET": s.sock, "BACKEND": "file"}
	buf := make([]byte, 65536)
	_ = jc.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		n, err := jc.Read(buf)
		if err != nil {
			t.Fatalf("no serving entry in the journal: %v", err)
		}
		fields := journalFields(buf[:n])
		if fields["MESSAGE"] != "serving" {
			continue
		}
		for k, v := range want {
			if fields[k] != v {
				t.Errorf("journal field %s = %q, want %q (entry %q)", k, fields[k], v, fields)
			}
		}
		break
	}
	if b, _ := os.ReadFile(stderr.Name()); len(b) != 0 {
		t.Errorf("agent wrote to stderr although it is the journal:\n%s", b)
	}
}

// journalFields parses the journal's native protocol, for single-line
// values.
func journalFields(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			m[k] = v
		}
	}
	return m
}

// Twenty helpers at once and no agent: exactly one agent starts, and every
// helper gets the token.
func TestHelperAutostartOnce(t *testing.T) {
	bin := buildBinaries(t, "-s -w")
	keyfob, helper := filepath.Join(bin, "keyfob"), filepath.Join(bin, "git-credential-keyfob")
	s := newSession(t)

	// A token in the file keyring, added through an agent that then stops.
	first := exec.Command(keyfob, "serve")
	first.Env = s.env
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	waitAnswer(t, s.sock)
	add := exec.Command(keyfob, "add", "personal", "--host", "git.example.com")
	add.Env = s.env
	add.Stdin = strings.NewReader("ghp_autostartTOKEN000000000000000wxyz\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("keyfob add: %v\n%s", err, out)
	}
	first.Process.Signal(syscall.SIGTERM)
	if err := first.Wait(); err != nil {
		t.Fatalf("first agent: %v", err)
	}
	if _, err := os.Stat(s.sock); err == nil {
		t.Fatalf("%s still exists after the agent stopped", s.sock)
	}

	t.Cleanup(func() {
		// Stop every agent the helpers started: the binary's path is this
		// test's own.
		for _, pid := range agentPids(t, keyfob) {
			syscall.Kill(pid, syscall.SIGTERM)
		}
		for i := 0; i < 500 && len(agentPids(t, keyfob)) > 0; i++ {
			time.Sleep(10 * time.Millisecond)
		}
	})
	const n = 20
	cmds := make([]*exec.Cmd, n)
	outs, errs := make([]bytes.Buffer, n), make([]bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = exec.Command(helper, "get")
		cmds[i].Env = append(s.env, "GIT_TERMINAL_PROMPT=0")
		cmds[i].Stdin = strings.NewReader("protocol=https\nhost=git.example.com\n\n")
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &errs[i]
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range cmds {
		wg.Go(func() {
			<-start
			if err := cmds[i].Run(); err != nil {
				t.Errorf("helper %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range cmds {
		if !strings.Contains(outs[i].String(), "password=ghp_autostartTOKEN000000000000000wxyz\n") || errs[i].Len() != 0 {
			t.Errorf("helper %d: stdout %q, stderr %q; want the token and nothing on stderr", i, outs[i].String(), errs[i].String())
		}
	}

	log, err := os.ReadFile(filepath.Join(s.getenv("XDG_STATE_HOME"), "keyfob", "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(log), "starts "+keyfob+" serve"); c != 1 {
		t.Errorf("helpers started %d agents, want 1; agent.log:\n%s", c, log)
	}
	if pids := agentPids(t, keyfob); len(pids) != 1 {
		t.Errorf("keyfob serve processes %v, want 1", pids)
	}
}

// agentPids lists running "exe serve" processes.
func agentPids(t *testing.T, exe string) []int {
	t.Helper()
	files, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || string(b) != exe+"\x00serve\x00" {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
