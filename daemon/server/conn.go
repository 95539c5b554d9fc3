package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/keyfob/keyfob/client"
)

// conn is a connection in the runtime's poller, read and written with
// deadlines: an *os.File over an accepted descriptor.
type conn interface {
	io.ReadWriteCloser
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// worker holds the buffers a goroutine keeps from one connection to the
// next.
type worker struct {
	// first takes a connection's first read.
	first []byte
	r     *bufio.Reader
}

func newWorker() *worker {
	return &worker{first: make([]byte, 4096), r: bufio.NewReaderSize(nil, 4096)}
}

// serve answers the requests on j's connection, then closes it.
//
// git-credential-keyfob sends its whole request and closes its sending
// side before it reads: its connection is answered with plain reads and
// writes on the descriptor, which the runtime's poller never sees. Any
// other connection (a request not yet there, cut, or more than one, on the
// JSON wire or git's) goes to the poller as an *os.File, read through a
// bufio.Reader with deadlines (serveConn). Both read a request in git's
// lines the same way (wholeGit, readGitBody).
func (s *Server) serve(ctx context.Context, j job, w *worker, track func(conn) bool, untrack func(conn)) {
	read, unsent, more, open := s.answerNow(ctx, j, w)
	// The bytes read may hold a secret (add, store), and the answer
	// the token: both are wiped however this ends.
	defer clear(read)
	defer clear(unsent)
	if !open {
		closeFD(j.fd)
		return
	}
	f := os.NewFile(uintptr(j.fd), "peer")
	defer f.Close()
	c, err := newPolled(f)
	if err != nil {
		return
	}
	defer untrack(c)
	if !track(c) {
		return
	}
	if unsent != nil {
		if !s.write(c, unsent) || !more {
			return
		}
	}
	var src io.Reader = c
	if len(read) > 0 {
		src = io.MultiReader(bytes.NewReader(read), c)
	}
	w.r.Reset(src)
	s.serveConn(ctx, c, j.peer, w.r)
	// Bytes the peer sent past its last line are wiped before the buffer
	// serves another.
	if n := w.r.Buffered(); n > 0 {
		b, _ := w.r.Peek(n)
		clear(b)
	}
	w.r.Reset(nil)
}

// answerNow answers, with plain reads and writes on j's descriptor, a
// connection whose first read holds exactly one whole request in git's
// lines. It returns what it leaves to the poller: the bytes read and not
// answered, the part of the answer the peer's socket did not take, and
// whether requests may follow that answer; open is false once nothing is
// left to serve.
func (s *Server) answerNow(ctx context.Context, j job, w *worker) (read, unsent []byte, more, open bool) {
	got, open := readNow(j.fd, w.first)
	if !open || !wholeGit(got) {
		return got, nil, true, open
	}
	b, more := s.answerWhole(ctx, j.peer, got)
	clear(got)
	sent, err := writeFD(j.fd, b)
	clear(b[:sent])
	switch {
	case err != nil && !errors.Is(err, syscall.EAGAIN):
		clear(b)
		return nil, nil, false, false
	case sent < len(b):
		// The peer's socket is full: the rest waits in the poller.
		return nil, b[sent:], more, true
	case !more:
		return nil, nil, false, false
	}
	// As a rule the one-shot client's close; else what comes next.
	got, open = readNow(j.fd, w.first)
	return got, nil, true, open
}

// readNow reads what fd holds now, into b: nil when nothing has come yet,
// and open false at the end of input or on an error.
func readNow(fd int, b []byte) (got []byte, open bool) {
	n, err := readFD(fd, b)
	switch {
	case errors.Is(err, syscall.EAGAIN):
		return nil, true
	case err != nil || n == 0:
		return nil, false
	}
	return b[:n], true
}

// write writes b to c within the write timeout.
func (s *Server) write(c conn, b []byte) bool {
	_ = c.SetWriteDeadline(time.Now().Add(s.writeTimeout()))
	_, err := c.Write(b)
	return err == nil
}

// busy tells a peer over MaxConns so, if its socket takes the answer at
// once.
func (s *Server) busy(fd int) {
	b := s.encode(&client.Response{Code: client.CodeUnavailable, Error: "agent busy: too many connections"})
	_, _ = writeFD(fd, b)
}
