// Package server runs the agent's accept loop: it checks each peer's uid at
// accept, bounds every connection in time, size and number, and hands each
// decoded request to a Handler. A connection speaks the JSON wire protocol
// (client.Request, one line each) or, from git-credential-keyfob, git's
// own lines (pump's framing, git.go).
package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/pump"
	"github.com/keyfob/keyfob/daemon/peercred"
)

// Handler answers requests from peers that passed the uid check.
type Handler interface {
	// Handle answers one request. The server wipes the request's secret
	// once Handle returns, and the answer's secret once it is written, so
	// a handler keeps neither: it keeps a Clone, and answers with one.
	Handle(ctx context.Context, peer peercred.Cred, req *client.Request) *client.Response
	// Refused records a peer refused at accept (audit).
	Refused(peer peercred.Cred, reason string)
	// Malformed records an unreadable request (audit) and returns the
	// answer to send.
	Malformed(peer peercred.Cred, err error) *client.Response
}

// Server serves one listener.
type Server struct {
	Handler Handler
	Log     *zap.Logger
	// AllowUID decides which peers may talk; nil means only our own uid.
	AllowUID func(uid int) bool
	// MaxConns caps concurrent connections; 0 means 1024.
	MaxConns int
	// IdleTimeout bounds the wait for each request; 0 means 10s.
	IdleTimeout time.Duration
	// WriteTimeout bounds each answer; 0 means 5s.
	WriteTimeout time.Duration
	// ReleaseIdle, if set, returns the heap's free pages to the kernel
	// once no connection has come for that long (once per quiet spell):
	// what serving grew does not stay resident while the agent idles.
	ReleaseIdle time.Duration

	wg sync.WaitGroup
}

// Serve accepts connections on l until ctx ends, then closes l and waits for
// open connections to finish their current request.
func (s *Server) Serve(ctx context.Context, l *net.UnixListener) error {
	maxConns := s.MaxConns
	if maxConns == 0 {
		maxConns = 1024
	}
	// The accept loop waits on a duplicate of the listener's descriptor:
	// a listener's own RawConn cannot wait, an *os.File's can.
	lf, err := l.File()
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	lc, err := lf.SyscallConn()
	if err != nil {
		lf.Close()
		return fmt.Errorf("serve: %w", err)
	}
	closeListener := sync.OnceFunc(func() {
		l.Close()
		lf.Close()
	})
	defer closeListener()
	acc := newAcceptor(lc)
	sem := make(chan struct{}, maxConns)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	conns := map[conn]struct{}{}
	go func() {
		<-ctx.Done()
		closeListener()
		mu.Lock()
		for c := range conns {
			// Wake readers blocked on an idle connection.
			_ = c.SetReadDeadline(time.Now())
		}
		mu.Unlock()
	}()
	work := make(chan job)
	var idle atomic.Int32
	var accepted atomic.Uint64
	if s.ReleaseIdle > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.releaseWhenIdle(ctx, &accepted)
		}()
	}
	// track adds c to the connections woken at shutdown; it reports false
	// when shutdown has begun already, and c is not to be read.
	track := func(c conn) bool {
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		return ctx.Err() == nil
	}
	untrack := func(c conn) {
		mu.Lock()
		delete(conns, c)
		mu.Unlock()
	}
	defer s.wg.Wait()
	// Before the wait: idle workers see the close and end.
	defer close(work)
	for {
		fd, err := acc.accept()
		if err != nil {
			if ctx.Err() != nil {
				// Only ctx's end closes the listener.
				return nil
			}
			s.Log.Warn("accept", zap.Error(err))
			time.Sleep(10 * time.Millisecond)
			continue
		}
		accepted.Add(1)
		peer, err := peercred.FromFD(fd)
		if err != nil {
			s.Handler.Refused(peercred.Cred{UID: -1}, "peer credentials: "+err.Error())
			closeFD(fd)
			continue
		}
		if !s.allowed(peer.UID) {
			s.Handler.Refused(peer, "peer uid is not the agent's uid")
			closeFD(fd)
			continue
		}
		if !acquire(sem) {
			s.Log.Warn("connection refused: too many connections", zap.Int("max", maxConns))
			s.busy(fd)
			closeFD(fd)
			continue
		}
		j := job{fd, peer}
		select {
		case work <- j: // an idle worker takes it
		default:
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				// The buffers, too, are kept for the next connection.
				w := newWorker()
				for {
					s.serve(ctx, j, w, track, untrack)
					<-sem
					if idle.Add(1) > maxIdle {
						idle.Add(-1)
						return
					}
					var ok bool
					j, ok = <-work
					idle.Add(-1)
					if !ok {
						return
					}
				}
			}()
		}
	}
}

// maxIdle is how many goroutines that served a connection wait for the
// next one. A new goroutine's stack starts small and grows, copied, as a
// request goes deeper; one kept from the last connection has grown
// already, which is most of a one-shot request's runtime cost.
const maxIdle = 16

// job is an accepted connection (its descriptor, non-blocking) and its
// peer.
type job struct {
	fd   int
	peer peercred.Cred
}

// releaseWhenIdle frees memory to the kernel each time accepted has not
// moved for a whole ReleaseIdle, until ctx ends.
func (s *Server) releaseWhenIdle(ctx context.Context, accepted *atomic.Uint64) {
	t := time.NewTicker(s.ReleaseIdle)
	defer t.Stop()
	var last, released uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := accepted.Load()
		if n == last && n != released {
			debug.FreeOSMemory()
			released = n
		}
		last = n
	}
}

// busyWait is how long a connection over MaxConns waits for a slot
// before it is refused. One-shot clients close as soon as they have their
// answer, and a slot frees once the agent reads that close: under a burst,
// slots free by the thousand each second, so a short wait answers what
// would otherwise be refused, and a real overload is still refused soon.
const busyWait = 50 * time.Millisecond

// acquire takes a slot of sem, waiting up to busyWait for one.
func acquire(sem chan struct{}) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(busyWait)
	defer t.Stop()
	select {
	case sem <- struct{}{}:
		return true
	case <-t.C:
		return false
	}
}

func (s *Server) allowed(uid int) bool {
	if s.AllowUID == nil {
		return uid == ownUID
	}
	return s.AllowUID(uid)
}

func (s *Server) serveConn(ctx context.Context, c conn, peer peercred.Cred, r *bufio.Reader) {
	idle := s.IdleTimeout
	if idle == 0 {
		idle = 10 * time.Second
	}
	for ctx.Err() == nil {
		_ = c.SetReadDeadline(time.Now().Add(idle))
		if _, err := r.Peek(1); err != nil {
			// Closed, or idle past its time: nothing to answer.
			return
		}
		if isGit(r) {
			// git-credential-keyfob's request, in git's lines.
			line, err := r.ReadSlice('\n')
			op, ok := pump.ParseHeader(bytes.TrimSuffix(line, []byte("\n")))
			if err != nil || !ok {
				s.writeGit(c, s.malformedGit(peer, errGitHeader))
				return
			}
			if !s.serveGit(ctx, c, peer, op, r) {
				return
			}
			continue
		}
		line, err := client.ReadLine(r)
		if err != nil {
			if errors.Is(err, client.ErrTooLarge) || errors.Is(err, errUnexpectedEOF) {
				s.reply(c, s.Handler.Malformed(peer, err))
			}
			return
		}
		req, err := client.DecodeRequest(line)
		// The line may have held a secret (add, rotate, unlock, app-add,
		// store); the request has its own copy, wiped once it is answered.
		clear(line)
		var resp *client.Response
		if err != nil {
			resp = s.Handler.Malformed(peer, err)
		} else {
			resp = s.Handler.Handle(ctx, peer, req)
			req.Secret.Wipe()
			req.Refresh.Wipe()
		}
		if !s.reply(c, resp) || err != nil {
			return
		}
	}
}

// isGit reports whether the request waiting in r is one in git's lines:
// a JSON request starts with "{", so only one that starts with "g" is
// waited for to its fourth byte.
func isGit(r *bufio.Reader) bool {
	if p, _ := r.Peek(1); p[0] != pump.RequestPrefix[0] {
		return false
	}
	p, err := r.Peek(len(pump.RequestPrefix))
	return err == nil && string(p) == pump.RequestPrefix
}

func (s *Server) reply(c conn, resp *client.Response) bool {
	b := s.encode(resp)
	_ = c.SetWriteDeadline(time.Now().Add(s.writeTimeout()))
	_, err := c.Write(b)
	// The answer's secret is the handler's copy for this answer alone:
	// wipe it, and the line that carried it.
	clear(b)
	resp.Secret.Wipe()
	resp.Refresh.Wipe()
	return err == nil
}

// encode encodes an answer on the JSON wire.
func (s *Server) encode(resp *client.Response) []byte {
	resp.V = client.Version
	b, err := client.EncodeResponse(resp)
	if err != nil {
		s.Log.Error("encode answer", zap.Error(err))
		b, _ = client.EncodeResponse(&client.Response{V: client.Version, Code: client.CodeInternal, Error: "internal error"})
	}
	return b
}

func (s *Server) writeTimeout() time.Duration {
	if s.WriteTimeout == 0 {
		return 5 * time.Second
	}
	return s.WriteTimeout
}
