package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/pump"
	"github.com/keyfob/keyfob/daemon/peercred"
)

// serveGit reads the rest of one request of git-credential-keyfob's
// (pump's framing: "git OP", git's lines, a blank line), its first line
// already read as op, and answers it. It reports whether the connection
// may carry another request.
func (s *Server) serveGit(ctx context.Context, c conn, peer peercred.Cred, op string, r *bufio.Reader) bool {
	body, err := readGitBody(r)
	if err != nil {
		s.writeGit(c, s.malformedGit(peer, err))
		return false
	}
	b, more := s.answerGit(ctx, peer, op, body)
	ok := s.writeGit(c, b)
	clear(b)
	return ok && more
}

// answerWhole answers req, which holds exactly one whole request in git's
// lines (wholeGit), and wipes it. It reports whether the connection may
// carry another request.
func (s *Server) answerWhole(ctx context.Context, peer peercred.Cred, req []byte) ([]byte, bool) {
	nl := bytes.IndexByte(req, '\n')
	op, ok := pump.ParseHeader(req[:nl])
	if !ok {
		clear(req)
		return s.malformedGit(peer, errGitHeader), false
	}
	return s.answerGit(ctx, peer, op, req[nl+1:len(req)-1])
}

// wholeGit reports whether b is exactly one request in git's lines: its
// header line, git's lines, and the blank line that ends them, with
// nothing after it. Such a request is what readGitBody would read.
func wholeGit(b []byte) bool {
	if !bytes.HasPrefix(b, []byte(pump.RequestPrefix)) {
		return false
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return false
	}
	end := bytes.Index(b[nl:], []byte("\n\n"))
	return end >= 0 && nl+end+2 == len(b)
}

// answerGit answers op for git's lines in body (without their blank line)
// in git's own terms: it parses them, asks the handler as the helper
// would have asked over the wire (client.AnswerGit), and frames git's
// lines and the user's with the helper's exit status. It wipes body, which
// may hold git's password (store, erase), and reports whether the
// connection may carry another request.
func (s *Server) answerGit(ctx context.Context, peer peercred.Cred, op string, body []byte) ([]byte, bool) {
	attrs, err := client.ParseGitLines(body)
	// attrs has its own copy of a password.
	clear(body)
	if err != nil {
		return s.malformedGit(peer, err), false
	}
	call := func(req *client.Request) (*client.Response, error) {
		req.V = client.Version
		resp := s.Handler.Handle(ctx, peer, req)
		return resp, resp.Err()
	}
	out, lines, status := client.AnswerGit(op, attrs, "the agent's socket", call, nil)
	attrs.Password.Wipe()
	attrs.OAuthRefreshToken.Wipe()
	b := frameGit(out, lines, status)
	clear(out)
	return b, true
}

// malformedGit records an unreadable request and frames its answer.
func (s *Server) malformedGit(peer peercred.Cred, err error) []byte {
	resp := s.Handler.Malformed(peer, err)
	return frameGit(nil, []string{pump.SayError + resp.Error}, 1)
}

// frameGit frames an answer in git's terms: git's lines, the user's lines
// and the exit status.
func frameGit(out []byte, lines []string, status int) []byte {
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
	return pump.AppendExit(b, status)
}

// writeGit writes a framed answer and wipes it.
func (s *Server) writeGit(c conn, b []byte) bool {
	_ = c.SetWriteDeadline(time.Now().Add(s.writeTimeout()))
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
