// Package pump is git-credential-keyfob, the helper git runs on every fetch
// and push, and the checks every keyfob client makes before it talks to
// the agent: where the socket is and who serves it.
//
// The helper is a byte pump. It checks git's request (sizes, characters),
// sends git's lines to the agent, and copies the agent's answer, already in
// git's terms, to stdout and stderr. Deciding, auditing and wording belong
// to the agent. The package imports no fmt, net, crypto, encoding/json,
// reflect or os/exec (the helper's dependency test holds it to that):
// their start-up would cost more than the exchange.
//
// When no agent answers a get and the helper may start one, it hands the
// request to keyfob git-credential, which starts the agent: a path taken
// once per login session. Otherwise it says in one hint what to do.
package pump

import (
	"bytes"
	"io"
	"os"
	"strings"
)

// The three kinds of line written on stderr, as the agent writes them too.
const (
	SayError   = "keyfob: error: "
	SayWarning = "keyfob: warning: "
	SayHint    = "keyfob: hint: "
)

// StartHint says how to start an agent that is not running.
const StartHint = "start it with: keyfob serve (or systemctl --user start keyfob.socket)"

// CapState is git's capability for helper state (git 2.46 and later).
const CapState = "state"

// Run runs git-credential-keyfob: args are the arguments after the
// program name. It returns the exit status.
func Run(args []string, stdin io.Reader, stdout, stderr *os.File) int {
	op, status, ok := Op(args, stdout, stderr)
	if !ok {
		return status
	}
	lines, err := ReadGit(stdin)
	if err != nil {
		say(stderr, SayError, err.Error())
		return 1
	}
	defer clear(lines)
	if !serves(lines) {
		// Nothing keyfob answers (a client certificate's passphrase,
		// smtp, no host): git gets silence, and the agent is not asked.
		return 0
	}
	path := SocketPath()
	req := AppendRequest(make([]byte, 0, len(RequestPrefix)+len(op)+len(lines)+2), op, lines)
	defer clear(req)
	answer, err := exchange(path, req)
	defer clear(answer[:cap(answer)])
	switch {
	case err == errNotRunning:
		return notRunning(op, path, lines, stdout, stderr)
	case err != nil:
		say(stderr, SayError, err.Error())
		return 0
	}
	a, err := ParseAnswer(answer)
	if err != nil {
		say(stderr, SayError, refusal(path, answer, err))
		return 0
	}
	if len(a.Out) > 0 {
		if _, err := stdout.Write(a.Out); err != nil {
			say(stderr, SayError, "write credential: "+err.Error())
			return 1
		}
	}
	if len(a.Err) > 0 {
		stderr.Write(a.Err)
	}
	return a.Status
}

// serves reports whether git's lines name a host over https or http, the
// only requests keyfob answers. url= is read as git reads it: it forgets
// what came before and names the protocol before "://" and the host after
// it. A url= the agent would refuse (no scheme, or percent-encoding, which
// could decode to a line break) is left for it to say so.
func serves(lines []byte) bool {
	var proto, host []byte
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		line := lines[:i]
		lines = lines[i+1:]
		key, _ := CheckGitLine(line)
		val := line[len(key)+1:]
		switch string(key) {
		case "protocol":
			proto = val
		case "host":
			host = val
		case "url":
			i := bytes.Index(val, []byte("://"))
			if i <= 0 || bytes.IndexByte(val, '%') >= 0 {
				return true
			}
			proto, host = val[:i], val[i+3:]
			end := bytes.IndexAny(host, "/?#")
			if end < 0 {
				end = len(host)
			}
			if at := bytes.IndexByte(host, '@'); at >= 0 && at < end {
				host = host[at+1 : end]
			} else {
				host = host[:end]
			}
		}
	}
	return len(host) > 0 && (string(proto) == "https" || string(proto) == "http")
}

// Op reads the helper's arguments, as git gives them: one operation. For
// get, store and erase it returns the op and ok; for anything else it
// does what git-credential(1) asks of a helper (capability's answer,
// silence for an operation it does not know, a usage error for no
// operation) and returns the exit status.
func Op(args []string, stdout, stderr io.Writer) (op string, status int, ok bool) {
	if len(args) != 1 {
		say(stderr, SayError, "usage: git-credential-keyfob get|store|erase")
		return "", 2, false
	}
	switch args[0] {
	case "get", "store", "erase":
		return args[0], 0, true
	case "capability":
		// git credential capability's format: the version, then one
		// line per capability. keyfob serves state (git 2.46), not
		// authtype.
		io.WriteString(stdout, "version 0\ncapability "+CapState+"\n")
	}
	// git-credential(1): helpers ignore operations they do not know.
	return "", 0, false
}

// refusal words an answer that is not keyfob's. A JSON line is an agent
// that did not read the request: one too busy to, or one older than this
// helper.
func refusal(path string, answer []byte, err error) string {
	if len(answer) > 0 && answer[0] == '{' {
		if containsString(answer, `"code":"unavailable"`) {
			return "the agent at " + path + " is busy (too many connections); git gets nothing from keyfob this time"
		}
		return "the agent at " + path + " does not speak this helper's protocol (one started before an upgrade?); restart it (systemctl --user restart keyfob, or end its keyfob serve and run it again)"
	}
	if err == ErrShortAnswer {
		return "read answer from " + path + ": " + err.Error() + "; check that it is still running (keyfob status) and look at its log"
	}
	return "refusing the answer from " + path + ": " + err.Error() + "; git gets nothing from keyfob, check what serves that socket"
}

func containsString(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// notRunning answers a request that found no agent. A get that may start
// one goes to keyfob git-credential, which starts it (or says why it
// will not: a service manager is set up to) and asks it; anything else,
// or a get with no keyfob at hand (a sandbox given only a grant socket),
// gets one hint, without a keyfob process started on every fetch.
func notRunning(op, path string, lines []byte, stdout, stderr *os.File) int {
	if op == "get" && AutostartEnabled() && os.Getenv("KEYFOB_SOCKET") == "" {
		if status, ok := delegate(op, lines, stdout, stderr); ok {
			return status
		}
	}
	say(stderr, SayHint, NotRunningHint(path))
	return 0
}

// AutostartEnv names the variable that turns helper autostart off:
// KEYFOB_AUTOSTART=0 (or false, no, off). Autostart is on by default.
const AutostartEnv = "KEYFOB_AUTOSTART"

// AutostartEnabled reports whether the helper may start the agent.
func AutostartEnabled() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(AutostartEnv))) {
	case "0", "false", "no", "off":
		return false
	}
	return true
}

// NotRunningHint says that nothing answers at path, and what to do.
func NotRunningHint(path string) string {
	if os.Getenv("KEYFOB_SOCKET") != "" {
		return "nothing answers at " + path + " (KEYFOB_SOCKET): the agent is not running there, or the grant has ended"
	}
	return "agent not running at " + path + "; " + StartHint
}

// say writes one line on stderr (SayLine).
func say(stderr io.Writer, kind, msg string) {
	io.WriteString(stderr, SayLine(kind, msg))
}

// SayLine is one line for the user's stderr: kind, then msg with any line
// break in it turned into a space, so that every line starts with kind,
// and a newline.
func SayLine(kind, msg string) string {
	return string(AppendErr(nil, kind+msg)[2:])
}
