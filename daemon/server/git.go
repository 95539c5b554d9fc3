package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/pump"
	"github.com/keyfob/keyfob/daemon/peercred"
)

// serveGit answers one request of git-credential-keyfob's (pump's
// framing: "git OP", git's lines, a blank line) in git's own terms: it
// parses git's lines, asks the handler as the helper would have asked
// over the wire (client.AnswerGit), and sends back git's lines and the
// user's, framed, with the helper's exit status. It reports whether the
// connection may carry another request.
func (s *Server) serveGit(ctx context.Context, c *net.UnixConn, peer peercred.Cred, op string, r *bufio.Reader) bool {
	body, err := readGitBody(r)
	if err != nil {
		resp := s.Handler.Malformed(peer, err)
		s.replyGit(c, nil, []string{pump.SayError + resp.Error}, 1)
		return false
	}
	attrs, err := client.ParseGitLines(body)
	// body may hold git's password (store, erase); attrs has its own copy.
	clear(body)
	if err != nil {
		resp := s.Handler.Malformed(peer, err)
		s.replyGit(c, nil, []string{pump.SayError + resp.Error}, 1)
		return false
	}
	call := func(req *client.Request) (*client.Response, error) {
		req.V = client.Version
		resp := s.Handler.Handle(ctx, peer, req)
		return resp, resp.Err()
	}
	out, lines, status := client.AnswerGit(op, attrs, "the agent's socket", call, nil)
	attrs.Password.Wipe()
	attrs.OAuthRefreshToken.Wipe()
	ok := s.replyGit(c, out, lines, status)
	clear(out)
	return ok
}

// replyGit frames and writes an answer in git's terms.
func (s *Server) replyGit(c net.Conn, out []byte, lines []string, status int) bool {
	// Room for every mark at once, so that no growth leaves a copy of a
	// secret behind.
	n := len(out) + 2*bytes.Count(out, []byte{'\n'}) + 16
	for _, l := range lines {
		n += len(l) + 3
	}
	b := make([]byte, 0, n)
	b = pump.AppendOut(b, out)
	for _, l := range lines {
		b = pump.AppendErr(b, strings.TrimSuffix(l, "\n"))
	}
	b = pump.AppendExit(b, status)
	wt := s.WriteTimeout
	if wt == 0 {
		wt = 5 * time.Second
	}
	_ = c.SetWriteDeadline(time.Now().Add(wt))
	_, err := c.Write(b)
	clear(b)
	return err == nil
}

// errGitHeader means a request that starts as git-credential-keyfob's
// names no op it sends.
var errGitHeader = errors.New("git request: want \"git get\", \"git store\" or \"git erase\"")

// errGitBody means a request in git's terms did not end with its blank
// line.
var errGitBody = errors.New("git request: no blank line before the end of input")

// readGitBody reads git's lines up to the blank line that ends them,
// without its blank line: at most client.MaxMessage bytes, the bound of a
// request on the JSON wire too, so that a peer (a sandbox's, on a grant
// socket) holds no more of the agent's memory per connection either way.
// git's input can be larger only by the attributes the helper leaves out. Lines are copied out of
// r's buffer, which is wiped behind them: they may hold git's password.
func readGitBody(r *bufio.Reader) ([]byte, error) {
	body := make([]byte, 0, 256)
	fail := func(err error) ([]byte, error) {
		clear(body)
		return nil, err
	}
	lineStart := 0
	for {
		chunk, err := r.ReadSlice('\n')
		if len(body)+len(chunk) > client.MaxMessage {
			clear(chunk)
			return fail(client.ErrTooLarge)
		}
		body = append(pump.Grow(body, len(chunk)), chunk...)
		clear(chunk)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return fail(errGitBody)
		case err != nil:
			return fail(err)
		}
		if len(body)-lineStart == 1 {
			// The blank line.
			return body[:lineStart], nil
		}
		lineStart = len(body)
	}
}
