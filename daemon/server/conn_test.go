package server

import (
	"bufio"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/listen"
	"github.com/keyfob/keyfob/daemon/peercred"
)

// agentWithToken starts an agent holding the canary for github.com, and
// returns it and a Server over it whose serve a test calls itself.
func agentWithToken(t *testing.T) (*fixture, *Server) {
	t.Helper()
	f := start(t, &Server{}, listen.Options{})
	add := &client.Request{Op: client.OpAdd, Name: "personal", Meta: &client.TokenMeta{Hosts: []string{"github.com"}}, Secret: client.NewSecret(canary)}
	if _, err := client.Call(f.sock, add); err != nil {
		f.stop()
		t.Fatalf("add: %v", err)
	}
	return f, &Server{Handler: f.a, Log: zap.NewNop()}
}

// pair is one connection served by serve, its client end in the test.
type pair struct {
	c      *os.File
	polled chan struct{} // closed once serve hands the connection to the poller
	done   chan struct{} // closed once serve returns
}

// serveFirst writes first into a new connection, then serves it with s,
// as the accept loop would; first is all the agent's first read sees.
func serveFirst(t *testing.T, s *Server, first string) *pair {
	t.Helper()
	return serveConnOf(t, s, first, false, nil)
}

// serveWhole is serveFirst with the client's sending side closed before
// the agent's first read, as the helper does: the close is there by the
// time the agent looks for it.
func serveWhole(t *testing.T, s *Server, first string) *pair {
	t.Helper()
	return serveConnOf(t, s, first, true, nil)
}

// serveFirstAfter is serveFirst, with before run on the agent's end of
// the connection first.
func serveFirstAfter(t *testing.T, s *Server, first string, before func(fd int)) *pair {
	t.Helper()
	return serveConnOf(t, s, first, false, before)
}

// serveConnOf writes first into a new connection, closes the client's
// sending side if shut, runs before on the agent's end, and then serves
// the connection with s.
func serveConnOf(t *testing.T, s *Server, first string, shut bool, before func(fd int)) *pair {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if err := syscall.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	p := &pair{c: os.NewFile(uintptr(fds[0]), "client"), polled: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { p.c.Close(); <-p.done })
	if first != "" {
		if _, err := p.c.Write([]byte(first)); err != nil {
			t.Fatal(err)
		}
	}
	if shut {
		p.closeWrite(t)
	}
	if before != nil {
		before(fds[1])
	}
	var once sync.Once
	track := func(conn) bool { once.Do(func() { close(p.polled) }); return true }
	peer := peercred.Cred{UID: os.Getuid(), GID: os.Getgid(), PID: os.Getpid()}
	go func() {
		defer close(p.done)
		s.serve(context.Background(), job{fds[1], peer}, newWorker(), track, func(conn) {})
	}()
	return p
}

func (p *pair) closeWrite(t *testing.T) {
	t.Helper()
	if err := syscall.Shutdown(int(p.c.Fd()), syscall.SHUT_WR); err != nil {
		t.Fatal(err)
	}
}

// waitPolled waits until serve has handed the connection to the poller.
func (p *pair) waitPolled(t *testing.T) {
	t.Helper()
	select {
	case <-p.polled:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection never went to the poller")
	}
}

// ended reports whether serve closed the connection: the client reads
// the end of input.
func (p *pair) ended(t *testing.T) bool {
	t.Helper()
	p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := p.c.Read(make([]byte, 1))
	return n == 0 && err != nil && !os.IsTimeout(err)
}

// Each request is answered the same whichever way it reaches the agent:
// whole in the first read and answered on the descriptor (the helper's
// way), or cut and read through the poller, or after an answer on a
// connection that stays open, or pipelined behind another.
func TestFastAndPolledPathsAgree(t *testing.T) {
	f, s := agentWithToken(t)
	defer f.stop()
	get := "git get\nprotocol=https\nhost=github.com\n\n"
	got := "o username=x-access-token\no password=" + canary + "\nx 0\n"
	store := "git store\nprotocol=https\nhost=github.com\nusername=x-access-token\npassword=" + canary + "\n\n"
	for _, tc := range []struct{ req, want string }{
		{get, got},
		{store, "x 0\n"},
		{"git get\nprotocol=https\nhost=example.org\n\n", "x 0\n"},
		{"git get\n\n", "x 0\n"},
	} {
		// Whole, then the helper's close of its sending side: answered
		// without the poller, then closed.
		p := serveWhole(t, s, tc.req)
		if a := exchangeGit(t, p.c, ""); a != tc.want {
			t.Errorf("%q whole: answer %q, want %q", tc.req, a, tc.want)
		}
		if !p.ended(t) {
			t.Errorf("%q whole: the connection stayed open", tc.req)
		}
		<-p.done
		select {
		case <-p.polled:
			t.Errorf("%q whole: went to the poller", tc.req)
		default:
		}

		// Cut after its first line: the rest comes through the poller.
		cut := strings.Index(tc.req, "\n") + 1
		p = serveFirst(t, s, tc.req[:cut])
		p.waitPolled(t)
		if a := exchangeGit(t, p.c, tc.req[cut:]); a != tc.want {
			t.Errorf("%q cut: answer %q, want %q", tc.req, a, tc.want)
		}
		p.closeWrite(t)
		if !p.ended(t) {
			t.Errorf("%q cut: the connection stayed open", tc.req)
		}

		// Whole, the connection kept: a second request follows the answer.
		p = serveFirst(t, s, tc.req)
		if a := exchangeGit(t, p.c, ""); a != tc.want {
			t.Errorf("%q kept: first answer %q, want %q", tc.req, a, tc.want)
		}
		p.waitPolled(t)
		if a := exchangeGit(t, p.c, get); a != got {
			t.Errorf("%q kept: second answer %q, want %q", tc.req, a, got)
		}

		// Pipelined: two requests in the first read, then the close.
		p = serveFirst(t, s, tc.req+get)
		p.closeWrite(t)
		p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if a, err := io.ReadAll(p.c); err != nil || string(a) != tc.want+got {
			t.Errorf("%q pipelined: answers %q, %v; want %q then %q", tc.req, a, err, tc.want, got)
		}
	}

	// A request on the JSON wire after one in git's lines.
	p := serveFirst(t, s, get)
	if a := exchangeGit(t, p.c, ""); a != got {
		t.Fatalf("get: answer %q", a)
	}
	p.waitPolled(t)
	if _, err := p.c.Write([]byte(`{"v":1,"op":"ping"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := client.ReadLine(bufio.NewReader(p.c))
	if err != nil {
		t.Fatalf("ping after get: %v", err)
	}
	if resp, err := client.DecodeResponse(line); err != nil || resp.Code != "" || resp.Status == nil {
		t.Errorf("ping after get: %q, %v", line, err)
	}

	// A malformed request whole in the first read: one error, audited,
	// and the connection ends.
	p = serveFirst(t, s, "git frobnicate\nhost=github.com\n\n")
	if a := exchangeGit(t, p.c, ""); !strings.HasPrefix(a, "e keyfob: error: ") || !strings.HasSuffix(a, "\nx 1\n") {
		t.Errorf("malformed: answer %q", a)
	}
	if !p.ended(t) {
		t.Error("malformed: the connection stayed open")
	}
	// Closed before a word: nothing to answer, and serve ends.
	p = serveFirst(t, s, "")
	p.closeWrite(t)
	if !p.ended(t) {
		t.Error("silent: the connection stayed open")
	}
	b, _ := os.ReadFile(f.audit)
	if strings.Contains(string(b), canary) {
		t.Fatal("the audit log holds the token")
	}
}

// An answer the peer's socket cannot take at once (the peer has not read
// what came before) waits in the poller, and arrives whole once the peer
// reads.
func TestAnswerWaitsForAFullSocket(t *testing.T) {
	f, s := agentWithToken(t)
	defer f.stop()
	junk := 0
	fill := func(fd int) {
		b := make([]byte, 512)
		for {
			n, err := syscall.Write(fd, b)
			if err == syscall.EAGAIN {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			junk += n
		}
	}
	p := serveFirstAfter(t, s, "git get\nprotocol=https\nhost=github.com\n\n", fill)
	p.waitPolled(t)
	p.closeWrite(t)
	p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	all, err := io.ReadAll(p.c)
	if err != nil {
		t.Fatal(err)
	}
	want := "o username=x-access-token\no password=" + canary + "\nx 0\n"
	if len(all) != junk+len(want) || string(all[junk:]) != want {
		t.Errorf("after %d bytes queued before it, the answer is %q, want %q", junk, all[min(junk, len(all)):], want)
	}
}
