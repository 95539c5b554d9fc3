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
	var prefix, pending []byte
	more := true
	n, err := readFD(j.fd, w.first)
	switch {
	case err == nil && n == 0:
		// Closed without a word: nothing to answer.
		closeFD(j.fd)
		return
	case errors.Is(err, syscall.EAGAIN):
		// Not sent yet.
	case err != nil:
		closeFD(j.fd)
		return
	case !wholeGit(w.first[:n]):
		prefix = w.first[:n]
	default:
		var b []byte
		b, more = s.answerWhole(ctx, j.peer, w.first[:n])
		clear(w.first[:n])
		sent, err := writeFD(j.fd, b)
		switch {
		case err != nil && !errors.Is(err, syscall.EAGAIN):
			clear(b)
			closeFD(j.fd)
			return
		case sent < len(b):
			// The peer's socket is full: the rest waits in the poller.
			defer clear(b)
			pending = b[sent:]
		default:
			clear(b)
			if !more {
				closeFD(j.fd)
				return
			}
			m, err := readFD(j.fd, w.first)
			switch {
			case err == nil && m == 0:
				// The one-shot client's close.
				closeFD(j.fd)
				return
			case errors.Is(err, syscall.EAGAIN):
			case err != nil:
				closeFD(j.fd)
				return
			default:
				prefix = w.first[:m]
			}
		}
	}
	// The bytes read first may hold a secret (add, store): wiped however
	// this ends.
	defer clear(prefix)
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
	if pending != nil {
		if !s.write(c, pending) || !more {
			return
		}
	}
	var src io.Reader = c
	if len(prefix) > 0 {
		src = io.MultiReader(bytes.NewReader(prefix), c)
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
