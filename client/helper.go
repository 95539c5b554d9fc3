package client

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
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
	sayError   = "keyfob: error: "
	sayWarning = "keyfob: warning: "
	sayHint    = "keyfob: hint: "
)

// say writes one line on stderr: kind, then the message with any line
// break in it turned into a space, so that every line starts with kind.
func say(stderr io.Writer, kind, format string, args ...any) {
	msg := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, fmt.Sprintf(format, args...))
	io.WriteString(stderr, kind+msg+"\n")
}

// GitHelper runs git-credential-keyfob: args are the arguments after the
// program name. It returns the exit status.
func GitHelper(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		say(stderr, sayError, "usage: git-credential-keyfob get|store|erase")
		return 2
	}
	op := args[0]
	switch op {
	case "get", "store", "erase":
	case "capability":
		// git credential capability's format: the version, then one
		// line per capability. keyfob serves state (git 2.46), not
		// authtype.
		fmt.Fprintln(stdout, "version 0")
		fmt.Fprintln(stdout, "capability "+CapState)
		return 0
	default:
		// git-credential(1): helpers ignore operations they do not know.
		return 0
	}
	attrs, err := ParseGit(stdin)
	if err != nil {
		say(stderr, sayError, "%v", err)
		return 1
	}
	if attrs.Host == "" || attrs.Protocol != "https" && attrs.Protocol != "http" {
		return 0
	}
	cred := &Credential{Protocol: attrs.Protocol, Host: attrs.Host, Path: attrs.Path, Username: attrs.Username,
		EmptyUsername: attrs.HasUsername && attrs.Username == ""}
	if op != "get" && !attrs.Password.IsZero() {
		cred.PasswordFP = attrs.Password.Fingerprint()
	}
	if op != "get" {
		cred.EmptyPassword = attrs.HasPassword && attrs.Password.IsZero()
	}
	if op != "get" {
		// git 2.46+ echoes the state[] keyfob gave with the credential;
		// the agent then acts only on the token it names.
		cred.State = OwnState(attrs.State)
	}
	path := SocketPath()
	req := &Request{Op: op, Cred: cred}
	if op == "store" {
		// The helper cannot know which hosts the agent remembers, so
		// store always carries what git approved; the agent keeps it
		// for a host [[remember]] names and wipes it otherwise.
		req.Secret, req.Refresh = attrs.Password, attrs.OAuthRefreshToken
		cred.PasswordExpiryUTC = attrs.PasswordExpiryUTC
	}
	resp, err := gitCall(path, req)
	// Autostart serves the default socket only: KEYFOB_SOCKET names a
	// grant inside a sandbox, or a socket the user manages.
	if err != nil && op == "get" && isNotRunning(err) && AutostartEnabled() && os.Getenv("KEYFOB_SOCKET") == "" {
		// Only after a failed dial: start the agent (one, however many
		// helpers ask at once) and ask it.
		switch serr := StartAgent(path); {
		case serr == nil:
			resp, err = gitCall(path, req)
		case errors.Is(serr, ErrManaged):
			say(stderr, sayHint, "agent not running at %s, and its service manager has not started it: %s", path, managedHint())
			return 0
		default:
			say(stderr, sayError, "start the agent: %v", serr)
			return 0
		}
	}
	if resp != nil {
		for _, w := range resp.Warnings {
			say(stderr, sayWarning, "%s", w)
		}
	}
	if err != nil && op == "get" && attrs.Protocol == "http" && IsCode(err, CodeDenied) && httpRefused(stderr, path, cred) {
		return 0
	}
	if err != nil {
		reportHelperError(stderr, path, err)
		return 0
	}
	if op != "get" || resp.Secret.IsZero() && !resp.Remembered {
		return 0
	}
	out := GitAttrs{Username: resp.Username, Password: resp.Secret, PasswordExpiryUTC: resp.Expiry}
	if resp.Remembered {
		// As git stored it: an empty username or password is one git
		// approved. An expired password stays behind; its refresh
		// token goes to git for the next helper to use.
		out.HasUsername, out.HasPassword = true, !resp.PasswordExpired
		out.OAuthRefreshToken = resp.Refresh
	}
	if slices.Contains(attrs.Capabilities, CapState) && resp.Token != "" && resp.Fingerprint != "" {
		// Only to a git that announced it: older ones do not know state[].
		out.Capabilities = []string{CapState}
		out.State = []string{FormatState(resp.Token, resp.Fingerprint)}
	}
	err = WriteGit(stdout, out)
	switch {
	case errors.Is(err, ErrUnsafeValue):
		// A value that would split git's lines is refused whole: git gets
		// no credential from keyfob. git does not stop at a helper's exit
		// status, but 0 is what every other "no credential" here returns,
		// and git then asks its next helper or prompts.
		say(stderr, sayError, "refusing the answer from %s: %v; git gets nothing from keyfob, check what serves that socket", path, err)
		return 0
	case err != nil:
		say(stderr, sayError, "write credential: %v", err)
		return 1
	}
	return 0
}

// httpRefused reports whether the agent refused cred for its protocol
// alone: it sends a token over plain http to loopback hosts only. Then it
// writes one hint if a token would answer the same remote over https, and
// nothing otherwise: plain http to a host with no token is not keyfob's to
// comment on. It asks with which, which decides as get does and hands out
// no secret; a refusal that is not the protocol's (a route, an app, a
// grant) is left to reportHelperError.
func httpRefused(stderr io.Writer, path string, cred *Credential) bool {
	if _, err := gitCall(path, &Request{Op: OpWhich, Cred: cred}); !IsCode(err, CodeDenied) {
		return false
	}
	https := *cred
	https.Protocol = "https"
	resp, err := gitCall(path, &Request{Op: OpWhich, Cred: &https})
	if IsCode(err, CodeDenied) {
		return false
	}
	// A remembered credential is for the protocol it was stored with:
	// one for https says nothing about plain http.
	if err == nil && resp.Token != "" && !resp.Remembered {
		say(stderr, sayHint, "token %s is for %s over https only, and git asked over http; use an https:// URL for this remote", resp.Token, cred.Host)
	}
	return true
}

// reportHelperError says on stderr why no credential came, in one line plus
// a hint. git then asks its next helper or prompts.
func reportHelperError(stderr io.Writer, path string, err error) {
	var e *Error
	switch {
	case errors.As(err, &e) && e.Code == CodeLocked && strings.HasPrefix(e.Message, "locked: "):
		// The keychain itself is locked; keyfob unlock would not help.
		say(stderr, sayWarning, "%s", e.Message)
		if e.Hint != "" {
			say(stderr, sayHint, "%s", e.Hint)
		}
	case errors.As(err, &e) && e.Code == CodeLocked:
		say(stderr, sayWarning, "keyfob is locked: run keyfob unlock")
	case errors.As(err, &e) && e.Code == CodeNotFound:
		// No token for this remote: git moves on quietly unless the agent
		// says why (an ambiguous match, for example).
		if e.Message != "" && e.Message != "no token for this remote" {
			say(stderr, sayWarning, "%s", e.Message)
		}
		if e.Hint != "" {
			say(stderr, sayHint, "%s", e.Hint)
		}
	case errors.As(err, &e):
		say(stderr, sayError, "%s", e.Message)
		if e.Hint != "" {
			say(stderr, sayHint, "%s", e.Hint)
		}
	case isNotRunning(err) && os.Getenv("KEYFOB_SOCKET") != "":
		say(stderr, sayHint, "nothing answers at %s (KEYFOB_SOCKET): the agent is not running there, or the grant has ended", path)
	case isNotRunning(err):
		say(stderr, sayHint, "agent not running at %s; %s", path, StartHint)
	default:
		say(stderr, sayError, "%s", strings.TrimSpace(err.Error()))
	}
}

func isNotRunning(err error) bool {
	return errors.Is(err, os.ErrNotExist) || errors.Is(err, errConnRefused)
}
