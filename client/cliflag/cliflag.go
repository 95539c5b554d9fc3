// Package cliflag holds the values keyfob's command line parses beyond
// what package flag does: flags after positional arguments, repeatable
// flags, flags whose value is optional, durations in whole days, and
// expiry times. It uses the standard library only.
package cliflag

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Parse parses args with fs, allowing flags after positional arguments
// (keyfob add NAME --host H), and returns the positional arguments. After
// "--" every argument is positional. A parse error other than flag.ErrHelp
// comes back as is, for the caller to report as a usage error; on
// flag.ErrHelp, Parse writes the help of a FlagSet from New.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, Helped(fs, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// List is a repeatable flag: --host, --url.
type List []string

// String implements flag.Value.
func (h *List) String() string { return strings.Join(*h, ",") }

// Set implements flag.Value.
func (h *List) Set(v string) error { *h = append(*h, v); return nil }

// UIDs is a repeatable flag of numeric uids: --uid.
type UIDs []int

// String implements flag.Value.
func (u *UIDs) String() string { return fmt.Sprint(*u) }

// Set implements flag.Value.
func (u *UIDs) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("want a numeric uid, not %q", v)
	}
	*u = append(*u, n)
	return nil
}

// Path is a flag whose value is a path, or empty when the flag stands bare
// for the default location (--socket, --file; see Bare).
type Path struct {
	// Given is whether the flag was on the command line.
	Given bool
	Path  string
}

// String implements flag.Value.
func (o *Path) String() string { return o.Path }

// Set implements flag.Value.
func (o *Path) Set(v string) error { o.Given, o.Path = true, v; return nil }

// Bare lets the flags named in names stand without a value: followed by
// nothing or by another flag, such a flag gets an empty value (the default
// location). Arguments after "--" are left alone.
func Bare(args []string, names ...string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if name != a && slices.Contains(names, name) && (i+1 == len(args) || strings.HasPrefix(args[i+1], "-")) {
			a += "="
		}
		out = append(out, a)
	}
	return out
}

// Duration parses a Go duration or a whole number of days ("30d").
func Duration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var d int
		if _, err := fmt.Sscanf(n, "%d", &d); err == nil && d > 0 && fmt.Sprint(d) == n {
			return time.Duration(d) * 24 * time.Hour, nil
		}
	}
	return time.ParseDuration(s)
}

// ErrExpires is Expires' error: s is none of the forms it reads.
var ErrExpires = errors.New("want a date (2026-12-31), RFC 3339, or a duration (90d)")

// Expires reads an expiry: a date, an RFC 3339 time, or a duration from
// now. The empty string is no expiry, the zero time.
func Expires(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly, "2006-01-02 15:04:05 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	if d, err := Duration(s); err == nil {
		return now.Add(d).UTC().Truncate(time.Second), nil
	}
	return time.Time{}, ErrExpires
}

// EnvDuration reads a Go duration of 0 or more from the environment
// variable name; unset or empty is 0.
func EnvDuration(name string) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 15m", name, v)
	}
	return d, nil
}

// ErrWhen is When's error: s is none of the forms it reads.
var ErrWhen = errors.New("want a duration (1h, 7d), a date (2026-11-21) or an RFC 3339 time")

// When reads a point in time for --since and --until: a duration back
// from now, a date (midnight, local time) or an RFC 3339 time. The empty
// string is the zero time.
func When(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := Duration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	return time.Time{}, ErrWhen
}
