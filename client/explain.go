package client

import (
	"errors"
	"fmt"
	"net"

	"github.com/keyfob/keyfob/client/pump"
)

// StartHint says how to start an agent that is not running.
const StartHint = pump.StartHint

// Explain puts a failed Call to the agent at path, for op, in the user's
// terms, with what to do about it. The agent's own answers (*Error) and a
// socket that is not trusted (*UntrustedError, whose one line already says
// what to do) come back as they are, with no hint; so does a nil err.
func Explain(path, op string, err error) (hint string, explained error) {
	var ae *Error
	var ue *UntrustedError
	var oe *net.OpError
	switch {
	case err == nil, errors.As(err, &ae), errors.As(err, &ue):
		return "", err
	case errors.As(err, &oe) && oe.Op == "dial":
		return StartHint, fmt.Errorf("agent not running at %s: %w", path, err)
	}
	return "check that it is still running (keyfob status) and look at its log",
		fmt.Errorf("agent at %s closed the connection during %s: %w", path, op, err)
}
