package cliflag

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseIntersperse(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var hosts List
	fs.Var(&hosts, "host", "")
	pos, err := Parse(fs, []string{"NAME", "--host", "a", "--host=b", "--", "--host"})
	if err != nil || !slices.Equal(pos, []string{"NAME", "--host"}) || !slices.Equal(hosts, List{"a", "b"}) {
		t.Errorf("Parse = %q, %v (hosts %q); want [NAME --host], nil, [a b]", pos, err, hosts)
	}
}

func TestBare(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"--socket"}, []string{"--socket="}},
		{[]string{"-file", "--url", "u"}, []string{"-file=", "--url", "u"}},
		{[]string{"--socket", "/p"}, []string{"--socket", "/p"}},
		{[]string{"--", "--socket"}, []string{"--", "--socket"}},
		{[]string{"socket", "--ttl"}, []string{"socket", "--ttl"}},
	} {
		if got := Bare(tc.in, "socket", "file"); !slices.Equal(got, tc.want) {
			t.Errorf("Bare(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDurationAndExpires(t *testing.T) {
	if d, err := Duration("30d"); err != nil || d != 30*24*time.Hour {
		t.Errorf("Duration(30d) = %v, %v", d, err)
	}
	for _, s := range []string{"0d", "-1d", "1.5d", "01d"} {
		if _, err := Duration(s); err == nil {
			t.Errorf("Duration(%q) = nil error, want one", s)
		}
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	for s, want := range map[string]time.Time{
		"":                     {},
		"2026-12-31":           time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC),
		"2026-12-31T10:00:00Z": time.Date(2026, 12, 31, 10, 0, 0, 0, time.UTC),
		"1d":                   time.Date(2026, 1, 3, 3, 4, 5, 0, time.UTC),
	} {
		if got, err := Expires(s, now); err != nil || !got.Equal(want) {
			t.Errorf("Expires(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if _, err := Expires("soon", now); err != ErrExpires {
		t.Errorf("Expires(soon) = %v, want ErrExpires", err)
	}
}

func TestHelp(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var hosts List
	fs.Var(&hosts, "host", "host[:port] the token may go to (repeatable)")
	fs.Bool("no-verify", false, "do not check the token")
	fs.String("ttl", "1h", "how long it lives")
	fs.Duration("auto-lock", 0, "lock after this long")
	var b strings.Builder
	Help(&b, "keyfob add NAME --host H", fs)
	want := `usage: keyfob add NAME --host H
flags:
  --auto-lock DURATION
        lock after this long
  --host VALUE
        host[:port] the token may go to (repeatable)
  --no-verify
        do not check the token
  --ttl STRING
        how long it lives (default 1h)
`
	if b.String() != want {
		t.Errorf("Help() =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWhen(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
		err  error
	}{
		{"", time.Time{}, nil},
		{"1h", now.Add(-time.Hour), nil},
		{"7d", now.Add(-7 * 24 * time.Hour), nil},
		{"2026-11-20T10:00:00Z", time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), nil},
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.Local), nil},
		{"-1h", time.Time{}, ErrWhen},
		{"yesterday", time.Time{}, ErrWhen},
	} {
		got, err := When(c.in, now)
		if !errors.Is(err, c.err) || !got.Equal(c.want) {
			t.Errorf("When(%q) = %v, %v; want %v, %v", c.in, got, err, c.want, c.err)
		}
	}
}

// A FlagSet from New prints nothing on a bad flag, and its help on stdout
// for -h and --help, with Parse and with Helped.
func TestNewHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"NAME", "--help"}, {"--bogus"}} {
		var stdout strings.Builder
		fs := New("keyfob add", "keyfob add NAME", &stdout)
		fs.Bool("no-verify", false, "do not check the token")
		_, err := Parse(fs, args)
		if args[0] == "--bogus" {
			if err == nil || errors.Is(err, flag.ErrHelp) || stdout.Len() != 0 {
				t.Errorf("Parse(%q) = %v, wrote %q; want a parse error and nothing written", args, err, stdout.String())
			}
			continue
		}
		if !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(stdout.String(), "usage: keyfob add NAME\nflags:\n  --no-verify\n") {
			t.Errorf("Parse(%q) = %v, wrote %q; want ErrHelp and the help", args, err, stdout.String())
		}
	}
	var stdout strings.Builder
	fs := New("keyfob exec", "keyfob exec -- CMD...", &stdout)
	if err := Helped(fs, fs.Parse([]string{"--help"})); !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(stdout.String(), "usage: keyfob exec -- CMD...\n") {
		t.Errorf("Helped = %v, wrote %q", err, stdout.String())
	}
}
