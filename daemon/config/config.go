// Package config reads keyfob's TOML config file and watches it for changes.
// Every error it reports names the file and line. The watcher is the only
// user of fsnotify in keyfob.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/policy"
)

// Config is a parsed and checked config file.
type Config struct {
	// Path is the file it came from.
	Path string
	// Exists is false when the file was missing: an empty config.
	Exists bool
	// Table holds the routes, each with its Source set to "path:line",
	// compiled once; it is never nil.
	Table *policy.Table
	// Audit is the audit log's rotation ([audit]).
	Audit Audit
	// GitHub is the GitHub Enterprise Server hosts from [[github]]
	// tables, with their API and web bases as written ("" for the
	// defaults that github.NewHosts fills in).
	GitHub []github.Host
}

// file is the TOML layout. A new section is a new field here; keys that no
// field takes are errors, so typos do not pass silently.
type file struct {
	Route    []routeEntry    `toml:"route"`
	Audit    auditEntry      `toml:"audit"`
	GitHub   []githubEntry   `toml:"github"`
	Remember []rememberEntry `toml:"remember"`
}

// rememberEntry names remotes whose credentials keyfob keeps when git
// approves them (docs/config.md).
type rememberEntry struct {
	Match string `toml:"match"`
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

// The message of an Error is bounded, because status carries it over the
// socket: at most maxProblems problems of at most maxProblemLen bytes each.
// Problems holds them all, and keyfob doctor lists them.
const (
	maxProblems   = 10
	maxProblemLen = 512
)

func (e *Error) Error() string {
	var msgs []string
	for i, p := range e.Problems {
		if i == maxProblems {
			msgs = append(msgs, fmt.Sprintf("and %d more (keyfob doctor lists them)", len(e.Problems)-i))
			break
		}
		msgs = append(msgs, clip(p.Error(), maxProblemLen))
	}
	return strings.Join(msgs, "; ")
}

// clip cuts s to at most n bytes, at a UTF-8 boundary, marking the cut.
func clip(s string, n int) string {
	const mark = "…"
	if len(s) <= n {
		return s
	}
	cut := n - len(mark)
	for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut] + mark
}

// MaxRoutes is the most routes a config may have. Checking routes for ties
// takes time that grows with the square of their number, and the watcher
// does it on every reload.
const MaxRoutes = 1000

// Load reads and checks the config at path. A missing file is an empty
// config, not an error. A path that does not name a regular file of at
// most MaxSize bytes (after symlinks) is refused with a *FileError, without
// blocking: a FIFO, a device or a directory is never read. So is a file
// that another uid can change (ErrNotPrivate).
func Load(path string) (*Config, error) {
	b, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Path: path, Table: policy.Compile(nil)}, nil
	}
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse reads and checks a config file's contents; path is used for
// positions. The checks that need no tokens run here: syntax, unknown keys,
// route matches and ties. Check adds the ones that need tokens. Data over
// MaxSize, and nesting deeper than MaxDepth, are refused before the TOML
// decoder sees them.
func Parse(path string, data []byte) (*Config, error) {
	if len(data) > MaxSize {
		return nil, tooLarge(path)
	}
	if line := tooDeep(data, MaxDepth); line > 0 {
		return nil, &Error{Path: path, Problems: []policy.Problem{{
			Source: fmt.Sprintf("%s:%d", path, line),
			Msg:    fmt.Sprintf("syntax: nested deeper than %d levels (arrays, inline tables and dotted keys together)", MaxDepth),
		}}}
	}
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
	if len(f.Route) > MaxRoutes {
		return nil, &Error{Path: path, Problems: []policy.Problem{{
			Source: lines.routeSource(path, MaxRoutes),
			Msg:    fmt.Sprintf("more than %d routes; routes for owners (github.com/acme) cover their repositories", MaxRoutes),
		}}}
	}
	var probs []policy.Problem
	for _, k := range md.Undecoded() {
		probs = append(probs, policy.Problem{
			Source: lines.source(path, k),
			Msg:    fmt.Sprintf("unknown key %q", k.String()),
		})
	}
	var routes []policy.Route
	for i, r := range f.Route {
		routes = append(routes, policy.Route{
			Match:       strings.TrimSpace(r.Match),
			Token:       strings.TrimSpace(r.Token),
			Source:      lines.routeSource(path, i),
			Permissions: policy.NewPermissions(r.Permissions),
			RequireRepo: r.RequireRepo,
		})
		probs = append(probs, checkPermissions(lines.routeSource(path, i), r.Permissions)...)
	}
	for i, r := range f.Route {
		if r.Match == "" {
			probs = append(probs, policy.Problem{Source: lines.routeSource(path, i), Msg: "route: match is missing"})
		}
	}
	probs = append(probs, policy.CheckRoutes(validMatches(routes))...)
	aud, aprobs := parseAudit(path, lines, f.Audit)
	probs = append(probs, aprobs...)
	gh, ghProbs := githubHosts(path, lines, f.GitHub)
	probs = append(probs, ghProbs...)
	var remember []string
	for i, r := range f.Remember {
		src := lines.sectionSource(path, "remember", i)
		switch err := policy.ParseRemember(r.Match); {
		case strings.TrimSpace(r.Match) == "":
			probs = append(probs, policy.Problem{Source: src, Msg: "remember: match is missing"})
		case err != nil:
			probs = append(probs, policy.Problem{Source: src, Msg: err.Error()})
		}
		remember = append(remember, r.Match)
	}
	if len(probs) > 0 {
		return nil, &Error{Path: path, Problems: probs}
	}
	table := policy.Compile(routes).WithRemember(policy.NewRemember(remember))
	return &Config{Path: path, Exists: true, Table: table, Audit: aud, GitHub: gh}, nil
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
	if probs := policy.CheckTokens(c.Table, toks); len(probs) > 0 {
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
