package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Target is the host, owner and repository a request is for.
type Target struct {
	Host  string
	Owner string
	Repo  string
	// Bad is set for a path CanonicalPath refuses.
	Bad bool
}

// ErrBadPath is wrapped by CanonicalPath's errors.
var ErrBadPath = errors.New("path refused")

// CanonicalPath reads git's path the way GitHub reads a repository URL:
// empty and "." segments are dropped ("acme//app", "./acme/app" are
// acme/app). What a server could read as another repository is refused:
// a ".." segment, a backslash, a percent escape (git has already decoded
// the URL, and no owner or repository name holds "%"), and control
// characters.
func CanonicalPath(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	if i := strings.IndexFunc(path, func(r rune) bool { return r == '\\' || r == '%' || unicode.IsControl(r) }); i >= 0 {
		what := "a control character"
		switch path[i] {
		case '\\':
			what = "a backslash"
		case '%':
			what = "a percent escape"
		}
		return "", fmt.Errorf("%w: it holds %s", ErrBadPath, what)
	}
	segs := strings.Split(path, "/")
	out := segs[:0]
	for _, s := range segs {
		switch s {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("%w: it holds a .. segment", ErrBadPath)
		}
		out = append(out, s)
	}
	return strings.Join(out, "/"), nil
}

// ParseTarget splits git's host and path ("owner/repo.git"), read as
// CanonicalPath reads it. A path CanonicalPath refuses yields a target with
// Bad set, which no pattern matches.
func ParseTarget(host, path string) Target {
	t := Target{Host: strings.ToLower(host)}
	path, err := CanonicalPath(path)
	if err != nil {
		t.Bad = true
		return t
	}
	owner, rest, _ := strings.Cut(path, "/")
	t.Owner = owner
	repo, _, _ := strings.Cut(rest, "/")
	t.Repo = strings.TrimSuffix(repo, ".git")
	return t
}

// Pattern is a parsed route match, host[:port][/owner[/repo]], where "*"
// stands for exactly one owner or repository segment.
type Pattern struct {
	segs []string
}

// ParsePattern parses a route's match string.
func ParsePattern(s string) (Pattern, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s = strings.TrimSuffix(s, "/")
	segs := strings.Split(s, "/")
	if len(segs) > 3 {
		return Pattern{}, fmt.Errorf("match %q: want host[:port][/owner[/repo]]", s)
	}
	for i, seg := range segs {
		if seg == "" {
			return Pattern{}, fmt.Errorf("match %q: empty segment", s)
		}
		if i == 0 && seg == "*" {
			return Pattern{}, fmt.Errorf("match %q: the host cannot be *", s)
		}
		if seg != "*" && strings.Contains(seg, "*") {
			return Pattern{}, fmt.Errorf("match %q: * must be a whole segment", s)
		}
		if strings.ContainsAny(seg, " \t\x00\r\n") {
			return Pattern{}, fmt.Errorf("match %q: whitespace or control character", s)
		}
	}
	segs[0] = strings.ToLower(segs[0])
	segs[len(segs)-1] = strings.TrimSuffix(segs[len(segs)-1], ".git")
	return Pattern{segs: segs}, nil
}

// Host returns the pattern's host[:port].
func (p Pattern) Host() string { return p.segs[0] }

// HasPath reports whether the pattern names an owner or repository, and so
// can match only when git sends a path.
func (p Pattern) HasPath() bool { return len(p.segs) > 1 }

// Matches reports whether t falls under p.
func (p Pattern) Matches(t Target) bool {
	if t.Bad {
		return false
	}
	vals := []string{t.Host, t.Owner, t.Repo}
	for i, seg := range p.segs {
		if vals[i] == "" {
			return false
		}
		if seg != "*" && !strings.EqualFold(seg, vals[i]) {
			return false
		}
	}
	return true
}

// Specificity orders patterns: more segments first, then more literal ones.
func (p Pattern) Specificity() int {
	n := len(p.segs) * 10
	for _, s := range p.segs {
		if s != "*" {
			n++
		}
	}
	return n
}

// Overlaps reports whether some target matches both p and q.
func (p Pattern) Overlaps(q Pattern) bool {
	if len(p.segs) != len(q.segs) {
		return false
	}
	for i := range p.segs {
		if p.segs[i] != "*" && q.segs[i] != "*" && !strings.EqualFold(p.segs[i], q.segs[i]) {
			return false
		}
	}
	return true
}

func (p Pattern) String() string { return strings.Join(p.segs, "/") }
