package policy

import (
	"fmt"
	"strings"
)

// Remember is the set of remotes whose credentials keyfob keeps when git
// approves them ([[remember]] in config.toml). It is immutable.
type Remember struct {
	all  bool
	pats []Pattern
	src  []string
}

// ParseRemember checks one [[remember]] match: a route's match syntax
// (host[:port][/owner[/repo]]), or "*" for every host, which only
// [[remember]] allows.
func ParseRemember(match string) error {
	if strings.TrimSpace(match) == "*" {
		return nil
	}
	if _, err := ParsePattern(strings.TrimSpace(match)); err != nil {
		return fmt.Errorf("remember: %w", err)
	}
	return nil
}

// NewRemember compiles matches; one that does not parse is left out, and
// ParseRemember reports it.
func NewRemember(matches []string) *Remember {
	r := &Remember{}
	for _, m := range matches {
		m = strings.TrimSpace(m)
		if m == "*" {
			r.all = true
			r.src = append(r.src, m)
			continue
		}
		if p, err := ParsePattern(m); err == nil {
			r.pats = append(r.pats, p)
			r.src = append(r.src, m)
		}
	}
	return r
}

// Covers reports whether git's host and path are in the set. A pattern
// with an owner or repository covers only requests whose path names them
// (credential.useHttpPath); "*" covers every host.
func (r *Remember) Covers(host, path string) bool {
	if r == nil || host == "" {
		return false
	}
	if r.all {
		return true
	}
	t := ParseTarget(host, path)
	for _, p := range r.pats {
		if p.Matches(t) {
			return true
		}
	}
	return false
}

// Matches returns the matches in the set, as given.
func (r *Remember) Matches() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.src...)
}
