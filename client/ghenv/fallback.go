package ghenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keyfob/keyfob/client"
)

// NoToken reports whether err means keyfob simply has nothing for the
// request (no token for the remote, no agent running), and why, as
// opposed to a refusal, which keyfob exec --fallback must not paper
// over: a route that chose a token that cannot answer keeps the command
// from running with another account.
func NoToken(err error) (string, bool) {
	var ce *client.Error
	switch {
	case errors.As(err, &ce):
		return "no token for this remote", ce.Code == client.CodeNotFound && ce.Message == "no token for this remote"
	case err != nil && strings.Contains(err.Error(), "agent not running"):
		return "the agent is not running", true
	}
	return "", false
}

// RunUntouched runs argv as it would run without keyfob, in this
// process's environment, after a one-line hint on stderr saying why.
func RunUntouched(argv []string, stdin io.Reader, stdout, stderr io.Writer, why string) (int, error) {
	fmt.Fprintf(stderr, "keyfob: hint: %s, so %s runs with its own login (keyfob exec --fallback)\n", why, argv[0])
	return RunEnv(argv, stdin, stdout, stderr, os.Environ())
}
