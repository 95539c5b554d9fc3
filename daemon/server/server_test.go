package server

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/listen"
)

const canary = "ghp_canarySERVER00000000000000000wxyz"

// TestMain doubles as a peer process: with KEYFOB_TEST_PEER set, the test
// binary dials that socket, pings, and prints what happened.
func TestMain(m *testing.M) {
	if path := os.Getenv("KEYFOB_TEST_PEER"); path != "" {
		resp, err := client.Call(path, &client.Request{Op: client.OpPing})
		if err != nil {
			os.Stdout.WriteString("refused: " + err.Error() + "\n")
			os.Exit(0)
		}
		os.Stdout.WriteString("served: pid " + strconv.Itoa(resp.Status.PID) + "\n")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type fixture struct {
	sock  string
	audit string
	a     *agent.Agent
	stop  func()
}

func start(t testing.TB, srv *Server, opts listen.Options) *fixture {
	t.Helper()
	dir, err := os.MkdirTemp("", "kf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fixture{sock: filepath.Join(dir, "s", "agent.sock"), audit: filepath.Join(dir, "audit.log")}
	if opts.SkipDirCheck {
		os.Mkdir(filepath.Dir(f.sock), 0o755)
		os.Chmod(dir, 0o755)
	}
	l, err := listen.Unix(f.sock, opts)
	if err != nil {
		t.Fatal(err)
	}
	alog, err := audit.Open(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	f.a = agent.New(agent.Config{Backend: "file", Dir: filepath.Join(dir, "keyring"), Passphrase: client.NewSecret("pw"), Audit: alog})
	if err := f.a.Start(); err != nil {
		t.Fatal(err)
	}
	srv.Handler, srv.Log = f.a, zap.NewNop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	f.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
		alog.Close()
	}
	return f
}

func TestServesAndStopsWithoutLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	// ReleaseIdle's goroutine, too, must end with Serve.
	f := start(t, &Server{ReleaseIdle: time.Millisecond}, listen.Options{})
	// An idle connection must not keep Serve from returning.
	idle, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	add := &client.Request{Op: client.OpAdd, Name: "personal", Meta: &client.TokenMeta{Hosts: []string{"github.com"}}, Secret: client.NewSecret(canary)}
	if _, err := client.Call(f.sock, add); err != nil {
		t.Fatalf("add: %v", err)
	}
	c, err := client.Dial(f.sock)
	if err != nil {
		t.Fatal(err)
	}
	// Several requests on one connection.
	for i := 0; i < 3; i++ {
		resp, err := c.Do(&client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "github.com"}})
		if err != nil || resp.Secret.Reveal() != canary {
			t.Fatalf("get #%d = %v, %v", i, resp, err)
		}
	}
	c.Close()
	f.stop()
	if _, err := os.Stat(f.sock); !os.IsNotExist(err) {
		t.Errorf("socket still there after shutdown: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after shutdown, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestOversizedMessage(t *testing.T) {
	f := start(t, &Server{}, listen.Options{})
	defer f.stop()
	c, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go c.Write([]byte(`{"v":1,"op":"get","name":"` + strings.Repeat("x", client.MaxMessage) + "\"}\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := client.ReadLine(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("no answer to an oversized message: %v", err)
	}
	resp, err := client.DecodeResponse(line)
	if err != nil || resp.Code != client.CodeBadRequest {
		t.Fatalf("answer = %+v, %v; want bad_request", resp, err)
	}
	b, _ := os.ReadFile(f.audit)
	if !strings.Contains(string(b), `"decision":"bad-request"`) {
		t.Fatalf("audit log has no bad-request line:\n%s", b)
	}
}

func TestMalformedAndUnknown(t *testing.T) {
	f := start(t, &Server{}, listen.Options{})
	defer f.stop()
	for _, line := range []string{"garbage\n", `{"v":9,"op":"get"}` + "\n", `{"v":1,"op":"nope"}` + "\n"} {
		c, err := net.Dial("unix", f.sock)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(line))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		l, err := client.ReadLine(bufio.NewReader(c))
		c.Close()
		if err != nil {
			t.Fatalf("%q: no answer: %v", line, err)
		}
		resp, err := client.DecodeResponse(l)
		if err != nil || resp.Code != client.CodeBadRequest {
			t.Errorf("%q: answer %+v, %v; want bad_request", line, resp, err)
		}
	}
}

func TestIdleClientIsDropped(t *testing.T) {
	f := start(t, &Server{IdleTimeout: 50 * time.Millisecond}, listen.Options{})
	defer f.stop()
	c, err := net.Dial("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("read %d bytes from a silent connection, want the agent to close it", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the agent kept a silent connection open")
	}
}

func TestConnectionCap(t *testing.T) {
	f := start(t, &Server{MaxConns: 2}, listen.Options{})
	defer f.stop()
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := client.Dial(f.sock)
		if err != nil {
			t.Fatal(err)
		}
		// A completed request proves the connection holds a slot.
		if _, err := c.Do(&client.Request{Op: client.OpPing}); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = held
	}
	_, err := client.Call(f.sock, &client.Request{Op: client.OpPing})
	if !client.IsCode(err, client.CodeUnavailable) {
		t.Fatalf("third connection: %v, want unavailable", err)
	}
}

// TestOtherUIDRefused runs a real process as a second uid against the
// socket. The directory and socket are opened up for this test only, so the
// kernel lets the peer connect and SO_PEERCRED is what refuses it.
func TestOtherUIDRefused(t *testing.T) {
	u, err := user.Lookup("keyfobtest")
	if err != nil || os.Getuid() != 0 {
		t.Skip("second uid: needs root and the user keyfobtest (make deps creates both)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	f := start(t, &Server{}, listen.Options{SkipDirCheck: true, Mode: 0o666})
	defer f.stop()

	bin := filepath.Join(filepath.Dir(filepath.Dir(f.sock)), "peer")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(cred *syscall.Credential) string {
		cmd := exec.Command(bin)
		// The peer is told to trust our uid on this socket
		// (KEYFOB_SOCKET_UID), so that it sends its ping and the
		// server's check at accept is what refuses it.
		cmd.Env = []string{"KEYFOB_TEST_PEER=" + f.sock, "DBUS_SESSION_BUS_ADDRESS=disabled:",
			"KEYFOB_SOCKET=" + f.sock, "KEYFOB_SOCKET_UID=" + strconv.Itoa(os.Getuid())}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("peer: %v\n%s", err, out)
		}
		return string(out)
	}
	out := run(&syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true})
	if !strings.HasPrefix(out, "refused: ") {
		t.Fatalf("uid %d: %q, want refused", uid, out)
	}
	// The accept loop goes on serving our own uid.
	if out := run(nil); !strings.HasPrefix(out, "served: ") {
		t.Fatalf("own uid after a refusal: %q, want served", out)
	}
	b, _ := os.ReadFile(f.audit)
	want := `"decision":"denied-peer","reason":"peer uid is not the agent's uid","peer_uid":` + u.Uid
	if !strings.Contains(string(b), want) {
		t.Fatalf("audit log lacks %s:\n%s", want, b)
	}
}
