package client

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/keyfob/keyfob/client/pump"
)

// Output rules for the helper: git reads stdout, so stdout carries only
// credential attributes. Everything meant for the user goes to stderr as one
// line, "keyfob: error: …", "keyfob: warning: …" or "keyfob: hint: …".
//
// A request keyfob does not serve gets no answer and no error, so git asks
// its next helper or prompts: one with no host or a protocol other than
// https and http (a client certificate's passphrase, protocol=cert; git
// send-email's smtp), or one no token answers. keyfob never answers quit=1:
// it would stop git from asking the user's other helpers and from
// prompting, and nothing keyfob refuses (locked, no token, a route whose
// token cannot answer, a grant for another token) is a reason to keep the
// user from answering git some other way.

// The three kinds of line the helper writes on stderr. An error is keyfob
// failing at its job; a warning is something the user should act on that
// does not stop git (a locked agent, a token due for rotation, a request
// no token answers for a reason); a hint is what to do, including starting
// an agent that is not running.
const (
	sayError   = pump.SayError
	sayWarning = pump.SayWarning
	sayHint    = pump.SayHint
)

// say writes one line on stderr: kind, then the message with any line
// break in it turned into a space, so that every line starts with kind.
func say(stderr io.Writer, kind, format string, args ...any) {
	io.WriteString(stderr, sayLine(kind, format, args...))
}

// sayLine is the line say writes, its newline included.
func sayLine(kind, format string, args ...any) string {
	return pump.SayLine(kind, fmt.Sprintf(format, args...))
}

// GitHelper answers git's credential request as git-credential-keyfob
// does, over the agent's JSON protocol, and starts the agent when none
// answers a get and it may (autostart.go). git-credential-keyfob hands
// it the requests that find no agent (keyfob git-credential), and it is
// what the helper does when driven in-process. args are the arguments
// after the program name; it returns the exit status.
func GitHelper(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	op, status, ok := pump.Op(args, stdout, stderr)
	if !ok {
		return status
	}
	attrs, err := ParseGit(stdin)
	if err != nil {
		say(stderr, sayError, "%v", err)
		return 1
	}
	defer attrs.wipe()
	path := SocketPath()
	started := false
	call := func(r *Request) (*Response, error) {
		resp, err := Call(path, r)
		// Autostart serves the default socket only: KEYFOB_SOCKET names
		// a grant inside a sandbox, or a socket the user manages. Only
		// after a failed dial: start the agent (one, however many
		// helpers ask at once) and ask it.
		if err == nil || started || r.Op != OpGet || !isNotRunning(err) || !AutostartEnabled() || os.Getenv("KEYFOB_SOCKET") != "" {
			return resp, err
		}
		started = true
		switch serr := StartAgent(path); {
		case serr == nil:
			return Call(path, r)
		case errors.Is(serr, ErrManaged):
			return nil, &startError{kind: sayHint,
				msg: fmt.Sprintf("agent not running at %s, and its service manager has not started it: %s", path, managedHint())}
		default:
			return nil, &startError{kind: sayError, msg: fmt.Sprintf("start the agent: %v", serr)}
		}
	}
	out, lines, status := AnswerGit(op, attrs, path, call, nil)
	defer clear(out)
	io.WriteString(stderr, strings.Join(lines, ""))
	if len(out) > 0 {
		if _, err := stdout.Write(out); err != nil {
			say(stderr, sayError, "write credential: %v", err)
			return 1
		}
	}
	return status
}

// startError is a failed autostart, said as it is.
type startError struct{ kind, msg string }

func (e *startError) Error() string { return e.msg }

// GitCaller sends one request to the agent and returns its answer, with
// an answer's error code as an *Error (Response.Err). The agent answers
// git's lines itself with one that calls its own handler.
type GitCaller func(*Request) (*Response, error)

// AnswerGit answers git's request for op, read into attrs: it asks call
// as the helper asks the agent, appends the lines for git to out (git's
// format, through AppendGit) and returns them with the lines for the
// user's stderr (each ended by a newline) and the exit status. path names
// the agent's socket in what the user is told. It wipes the secrets of
// every answer it gets; the caller clears out once written, and attrs.
func AnswerGit(op string, attrs GitAttrs, path string, call GitCaller, out []byte) ([]byte, []string, int) {
	var lines []string
	var got []*Response
	defer func() {
		for _, r := range got {
			r.Secret.Wipe()
			r.Refresh.Wipe()
		}
	}()
	ask := func(r *Request) (*Response, error) {
		resp, err := call(r)
		if resp != nil {
			got = append(got, resp)
		}
		return resp, err
	}
	if attrs.Host == "" || attrs.Protocol != "https" && attrs.Protocol != "http" {
		return out, nil, 0
	}
	cred := &Credential{Protocol: attrs.Protocol, Host: attrs.Host, Path: attrs.Path, Username: attrs.Username,
		EmptyUsername: attrs.HasUsername && attrs.Username == ""}
	if op != "get" && !attrs.Password.IsZero() {
		cred.PasswordFP = attrs.Password.Fingerprint()
	}
	if op != "get" {
		cred.EmptyPassword = attrs.HasPassword && attrs.Password.IsZero()
		// git 2.46+ echoes the state[] keyfob gave with the credential;
		// the agent then acts only on the token it names.
		cred.State = OwnState(attrs.State)
	}
	req := &Request{Op: op, Cred: cred}
	if op == "store" {
		// Which hosts the agent remembers is the agent's to know, so
		// store always carries what git approved; the agent keeps it
		// for a host [[remember]] names and wipes it otherwise.
		req.Secret, req.Refresh = attrs.Password, attrs.OAuthRefreshToken
		cred.PasswordExpiryUTC = attrs.PasswordExpiryUTC
	}
	resp, err := ask(req)
	if resp != nil {
		for _, w := range resp.Warnings {
			lines = append(lines, sayLine(sayWarning, "%s", w))
		}
	}
	if err != nil && op == "get" && attrs.Protocol == "http" && IsCode(err, CodeDenied) {
		if hint, refused := httpRefused(ask, cred); refused {
			if hint != "" {
				lines = append(lines, hint)
			}
			return out, lines, 0
		}
	}
	if err != nil {
		return out, append(lines, reportHelperError(path, err)...), 0
	}
	if op != "get" || resp.Secret.IsZero() && !resp.Remembered {
		return out, lines, 0
	}
	a := GitAttrs{Username: resp.Username, Password: resp.Secret, PasswordExpiryUTC: resp.Expiry}
	if resp.Remembered {
		// As git stored it: an empty username or password is one git
		// approved. An expired password stays behind; its refresh
		// token goes to git for the next helper to use.
		a.HasUsername, a.HasPassword = true, !resp.PasswordExpired
		a.OAuthRefreshToken = resp.Refresh
	}
	if slices.Contains(attrs.Capabilities, CapState) && resp.Token != "" && resp.Fingerprint != "" {
		// Only to a git that announced it: older ones do not know state[].
		a.Capabilities = []string{CapState}
		a.State = []string{FormatState(resp.Token, resp.Fingerprint)}
	}
	out, err = AppendGit(out, a)
	if err != nil {
		// A value that would split git's lines is refused whole: git gets
		// no credential from keyfob. git does not stop at a helper's exit
		// status, but 0 is what every other "no credential" here returns,
		// and git then asks its next helper or prompts.
		return out, append(lines, sayLine(sayError, "refusing the answer from %s: %v; git gets nothing from keyfob, check what serves that socket", path, err)), 0
	}
	return out, lines, 0
}

// httpRefused reports whether the agent refused cred for its protocol
// alone: it sends a token over plain http to loopback hosts only. Then it
// returns one hint if a token would answer the same remote over https, and
// none otherwise: plain http to a host with no token is not keyfob's to
// comment on. It asks with which, which decides as get does and hands out
// no secret; a refusal that is not the protocol's (a route, an app, a
// grant) is left to reportHelperError.
func httpRefused(call GitCaller, cred *Credential) (hint string, refused bool) {
	if _, err := call(&Request{Op: OpWhich, Cred: cred}); !IsCode(err, CodeDenied) {
		return "", false
	}
	https := *cred
	https.Protocol = "https"
	resp, err := call(&Request{Op: OpWhich, Cred: &https})
	if IsCode(err, CodeDenied) {
		return "", false
	}
	// A remembered credential is for the protocol it was stored with:
	// one for https says nothing about plain http.
	if err == nil && resp.Token != "" && !resp.Remembered {
		return sayLine(sayHint, "token %s is for %s over https only, and git asked over http; use an https:// URL for this remote", resp.Token, cred.Host), true
	}
	return "", true
}

// reportHelperError says why no credential came, in one line plus a hint,
// as lines for stderr. git then asks its next helper or prompts.
func reportHelperError(path string, err error) []string {
	var e *Error
	var se *startError
	var lines []string
	say := func(kind, format string, args ...any) { lines = append(lines, sayLine(kind, format, args...)) }
	switch {
	case errors.As(err, &e) && e.Code == CodeLocked && strings.HasPrefix(e.Message, "locked: "):
		// The keychain's doing (locked, or cannot be read): its words,
		// and the fix as the hint.
		say(sayWarning, "%s", e.Message)
		if e.Hint != "" {
			say(sayHint, "%s", e.Hint)
		}
	case errors.As(err, &e) && e.Code == CodeLocked:
		say(sayWarning, "keyfob is locked: run keyfob unlock")
	case errors.As(err, &e) && e.Code == CodeNotFound:
		// No token for this remote: git moves on quietly unless the agent
		// says why (an ambiguous match, for example).
		if e.Message != "" && e.Message != "no token for this remote" {
			say(sayWarning, "%s", e.Message)
		}
		if e.Hint != "" {
			say(sayHint, "%s", e.Hint)
		}
	case errors.As(err, &e):
		say(sayError, "%s", e.Message)
		if e.Hint != "" {
			say(sayHint, "%s", e.Hint)
		}
	case errors.As(err, &se):
		say(se.kind, "%s", se.msg)
	case isNotRunning(err):
		say(sayHint, "%s", pump.NotRunningHint(path))
	default:
		say(sayError, "%s", strings.TrimSpace(err.Error()))
	}
	return lines
}

func isNotRunning(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, errConnRefused)
}
