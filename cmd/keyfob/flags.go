package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/keyfob/keyfob/client/cliflag"
)

func newFlags(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("keyfob "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args, allowing flags after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := cliflag.Parse(fs, args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return nil, usageError{err.Error()}
	}
	return pos, err
}

// oneArg parses the arguments of a command that takes no flags and one
// argument; usage says what it takes.
func oneArg(e *env, name string, args []string, usage string) (string, error) {
	pos, err := parseFlags(newFlags(name, e), args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", usageError{usage}
	}
	return pos[0], nil
}

// parseExpires reads --expires.
func parseExpires(s string) (time.Time, error) {
	t, err := cliflag.Expires(s, time.Now())
	if err != nil {
		return t, usageError{fmt.Sprintf("--expires %q: %v", s, err)}
	}
	return t, nil
}

// parseTTL reads --ttl: a duration of a second or more, in seconds.
func parseTTL(s string) (int64, error) {
	d, err := parseDuration(s)
	if err != nil || d < time.Second {
		return 0, usageError{fmt.Sprintf("--ttl %q: want a duration such as 30m, 1h or 1d", s)}
	}
	return int64(d / time.Second), nil
}

// parseDuration accepts Go durations and whole days ("30d").
var parseDuration = cliflag.Duration
