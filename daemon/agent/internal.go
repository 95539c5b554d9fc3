package agent

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"syscall"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
)

// At the socket, an answer's error is keyfob's own words: a fixed message
// for its code, and where it helps a fixed cause (Why). The Go error behind
// a failure (a keychain's D-Bus name, a path, an OS error's text) goes to
// the agent's log only, under the message; the answer's hint says so. Words
// a peer gave or asked for come back as given: GitHub's message about a
// token the user is adding, a grant spec that does not parse.

// HintLog is the hint of an answer whose details are in the agent's log.
const HintLog = "the agent's log has the details (journalctl --user -u keyfob, or the stderr of keyfob serve)"

// Why says in fixed words what kind of failure err is, for an answer: ""
// when it is none of the kinds a user can act on.
func Why(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, os.ErrPermission):
		return "permission denied"
	case errors.Is(err, os.ErrExist):
		return "it exists"
	case errors.Is(err, os.ErrNotExist):
		return "a directory on the way does not exist"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "no space left"
	case errors.Is(err, syscall.EROFS):
		return "read-only file system"
	case errors.Is(err, syscall.ENAMETOOLONG):
		return "the path is too long"
	}
	return ""
}

// Internal answers a failure whose cause is the agent's own: it logs err
// under msg, and answers code with msg, Why(err) after it when there is
// one, and hint (HintLog when hint is empty).
func (a *Agent) Internal(code, msg, hint string, err error) *client.Response {
	a.log.Error(msg, zap.Error(err))
	if w := Why(err); w != "" {
		msg += ": " + w
	}
	if hint == "" {
		hint = HintLog
	}
	return errResp(code, msg, hint)
}

// system reports whether err carries an operating system's error: a path
// operation's, a system call's, a network operation's. Its text names
// paths and kernel errors, and is not for the peer.
func system(err error) bool {
	var pe *fs.PathError
	var le *os.LinkError
	var se *os.SyscallError
	var ne *net.OpError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &le) || errors.As(err, &se) || errors.As(err, &ne) || errors.As(err, &errno)
}

// Failure answers a failure of msg with err: err's text after msg when it
// is keyfob's own words (it carries no operating system error), and
// otherwise as Internal does.
func (a *Agent) Failure(code, msg string, err error) *client.Response {
	if !system(err) {
		return errResp(code, msg+": "+err.Error(), "")
	}
	return a.Internal(code, msg, "", err)
}

// BadRequestText is the answer's error for a request that could not be
// read: err's text when it is keyfob's own (a wrong version, a missing op,
// a message too large), a fixed line when a JSON decoder's, whose text
// names Go types.
func BadRequestText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var ie *json.InvalidUnmarshalError
	if errors.As(err, &se) || errors.As(err, &te) || errors.As(err, &ie) || system(err) {
		return "the request is not keyfob's protocol: one JSON object a line, as docs/protocol.md describes"
	}
	return err.Error()
}
