package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/keyfob/keyfob/client/cliflag"
)

// subUsage is the synopsis of each subcommand with flags of its own.
var subUsage = map[string]string{
	"setup git":     "setup git [--host H]... [--dry-run]   make keyfob git's only helper for each host, with useHttpPath",
	"setup systemd": "setup systemd [--exe P] [--dry-run]   write the systemd user units that start the agent",
	"setup gh":      "setup gh [--shell bash|zsh|fish] [--install]   print (or install) a gh shell function that runs gh through keyfob exec",
	"app add":       "app add NAME --app-id ID (--installation-id N | --owner ORG) --key-file PEM [--host H]... [--no-verify]   store a GitHub App's key",
}

// synopsis is the usage line of a command or subcommand ("setup git").
func synopsis(name string) string {
	if s, ok := subUsage[name]; ok {
		return s
	}
	return commands[name].usage
}

// flagSeen, when set, is told of every FlagSet a command makes
// (help_test.go checks that help lists each of their flags).
var flagSeen func(*flag.FlagSet)

// newFlags returns the FlagSet of a command or subcommand ("setup git"):
// -h and --help print its synopsis and flags on stdout.
func newFlags(name string, e *env) *flag.FlagSet {
	fs := cliflag.New("keyfob "+name, "keyfob "+synopsis(name), e.stdout)
	if flagSeen != nil {
		flagSeen(fs)
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := cliflag.Parse(fs, args)
	return pos, flagError(err)
}

// flagError makes a parse error other than flag.ErrHelp a usage error.
func flagError(err error) error {
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return usageError{err.Error()}
	}
	return err
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
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
