// Package config reads keyfob's TOML config file and watches it for changes.
// Every error it reports names the file and line. The watcher is the only
// user of fsnotify in keyfob.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/keyfob/keyfob/daemon/policy"
)

// Config is a parsed and checked config file.
type Config struct {
	// Path is the file it came from.
	Path string
	// Exists is false when the file was missing: an empty config.
	Exists bool
	// Routes, each with its Source set to "path:line".
	Routes []policy.Route
}

// file is the TOML layout. A new section is a new field here; keys that no
// field takes are errors, so typos do not pass silently.
type file struct {
	Route []routeEntry `toml:"route"`
}

type routeEntry struct {
	Match string `toml:"match"`
	Token string `toml:"token"`
	// Permissions and RequireRepo narrow tokens minted from a GitHub
	// App (docs/config.md).
	Permissions map[string]string `toml:"permissions"`
	RequireRepo bool              `toml:"require_repo"`
}

// Error is everything wrong with one config file: one problem per line,
// each "path:line: message".
type Error struct {
	Path     string
	Problems []policy.Problem
}

func (e *Error) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// Load reads and checks the config at path. A missing file is an empty
// config, not an error.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, b)
}

// Parse reads and checks a config file's contents; path is used for
// positions. The checks that need no tokens run here: syntax, unknown keys,
// route matches and ties. Check adds the ones that need tokens.
func Parse(path string, data []byte) (*Config, error) {
	var f file
	md, err := toml.NewDecoder(strings.NewReader(string(data))).Decode(&f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Path: path, Problems: []policy.Problem{{
				Source: fmt.Sprintf("%s:%d", path, pe.Position.Line),
				Msg:    "syntax: " + pe.Message,
			}}}
		}
		return nil, &Error{Path: path, Problems: []policy.Problem{{Source: path, Msg: err.Error()}}}
	}
	lines := scanLines(data)
	var probs []policy.Problem
	for _, k := range md.Undecoded() {
		probs = append(probs, policy.Problem{
			Source: lines.source(path, k),
			Msg:    fmt.Sprintf("unknown key %q", k.String()),
		})
	}
	c := &Config{Path: path, Exists: true}
	for i, r := range f.Route {
		c.Routes = append(c.Routes, policy.Route{
			Match:       strings.TrimSpace(r.Match),
			Token:       strings.TrimSpace(r.Token),
			Source:      lines.routeSource(path, i),
			Permissions: formatPermissions(r.Permissions),
			RequireRepo: r.RequireRepo,
		})
		probs = append(probs, checkPermissions(lines.routeSource(path, i), r.Permissions)...)
	}
	for i, r := range f.Route {
		if r.Match == "" {
			probs = append(probs, policy.Problem{Source: lines.routeSource(path, i), Msg: "route: match is missing"})
		}
	}
	probs = append(probs, policy.CheckRoutes(validMatches(c.Routes))...)
	if len(probs) > 0 {
		return nil, &Error{Path: path, Problems: probs}
	}
	return c, nil
}

func validMatches(rs []policy.Route) []policy.Route {
	var out []policy.Route
	for _, r := range rs {
		if r.Match != "" {
			out = append(out, r)
		}
	}
	return out
}

// Check reports the routes that cannot answer with toks: unknown tokens and
// hosts outside a token's allowlist, each with file and line.
func (c *Config) Check(toks []policy.Token) error {
	if probs := policy.CheckTokens(c.Routes, toks); len(probs) > 0 {
		return &Error{Path: c.Path, Problems: probs}
	}
	return nil
}

// checkPermissions refuses permission levels GitHub does not know and
// names that cannot be GitHub permissions.
func checkPermissions(source string, perms map[string]string) []policy.Problem {
	var probs []policy.Problem
	for _, k := range slices.Sorted(maps.Keys(perms)) {
		ok := k != ""
		for _, r := range k {
			ok = ok && (r >= 'a' && r <= 'z' || r == '_')
		}
		switch v := perms[k]; {
		case !ok:
			probs = append(probs, policy.Problem{Source: source, Msg: fmt.Sprintf("route: permission %q: want a GitHub permission name such as contents or pull_requests", k)})
		case v != "read" && v != "write" && v != "admin":
			probs = append(probs, policy.Problem{Source: source, Msg: fmt.Sprintf("route: permission %s = %q: want read, write or admin", k, v)})
		}
	}
	return probs
}

// formatPermissions writes permissions as policy.Route keeps them, sorted:
// "contents:read,pull_requests:write".
func formatPermissions(perms map[string]string) string {
	keys := slices.Sorted(maps.Keys(perms))
	for i, k := range keys {
		keys[i] = k + ":" + perms[k]
	}
	return strings.Join(keys, ",")
}
