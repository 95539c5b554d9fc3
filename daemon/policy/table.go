package policy

import (
	"iter"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Permission is one GitHub permission and its level: "contents", "read".
type Permission struct {
	Name  string
	Level string
}

// Permissions narrow a token minted from a GitHub App to the permissions
// named, sorted by name. Empty asks for all the installation has.
type Permissions []Permission

// NewPermissions returns perms sorted by name; nil when perms is empty.
func NewPermissions(perms map[string]string) Permissions {
	if len(perms) == 0 {
		return nil
	}
	out := make(Permissions, 0, len(perms))
	for _, k := range slices.Sorted(maps.Keys(perms)) {
		out = append(out, Permission{Name: k, Level: perms[k]})
	}
	return out
}

// Map returns the permissions as GitHub's API takes them; nil when there
// are none.
func (p Permissions) Map() map[string]string {
	if len(p) == 0 {
		return nil
	}
	out := make(map[string]string, len(p))
	for _, x := range p {
		out[x.Name] = x.Level
	}
	return out
}

// String writes the permissions sorted, "contents:read,pull_requests:write",
// for messages and the audit log.
func (p Permissions) String() string {
	parts := make([]string, len(p))
	for i, x := range p {
		parts[i] = x.Name + ":" + x.Level
	}
	return strings.Join(parts, ",")
}

// Table is a set of routes compiled once: each match parsed, the routes
// ordered most specific first (routes of equal specificity keep the order
// they were given in) and indexed by host. A Table is immutable, so it is
// safe for concurrent use and is replaced whole when the config changes.
// A nil *Table has no routes.
type Table struct {
	// routes are those given that parse, in file order, pats their
	// patterns and given their indexes in the routes given to Compile.
	routes []Route
	pats   []Pattern
	given  []int
	// byHost maps a pattern's host (foldKey) to its routes, most
	// specific first.
	byHost map[string][]compiled
	// hosts are the routes' hosts, each once, in file order.
	hosts []string
	// routed holds the token names some route names: they are kept for
	// those routes when no route matches.
	routed map[string]bool
	// remember is the config's [[remember]] set, which travels with the
	// routes it was read with.
	remember *Remember
}

// WithRemember returns a copy of t that carries r, the hosts whose
// credentials keyfob keeps.
func (t *Table) WithRemember(r *Remember) *Table {
	if t == nil {
		t = Compile(nil)
	}
	n := *t
	n.remember = r
	return &n
}

// Remember returns the [[remember]] set read with t; nil remembers nothing.
func (t *Table) Remember() *Remember {
	if t == nil {
		return nil
	}
	return t.remember
}

// compiled is one route with its parsed pattern.
type compiled struct {
	pat   Pattern
	index int // into Table.routes
}

// Compile compiles routes into a Table. A route whose match does not parse
// is left out: it could never match, and CheckRoutes reports it. Compile
// does not refuse ties; CheckRoutes does, and the config refuses a file
// with one. Between tied routes the one given first wins.
func Compile(routes []Route) *Table {
	t := &Table{byHost: map[string][]compiled{}, routed: map[string]bool{}}
	for n, rt := range routes {
		p, err := ParsePattern(rt.Match)
		if err != nil {
			continue
		}
		rt.Permissions = slices.Clone(rt.Permissions)
		i := len(t.routes)
		t.routes = append(t.routes, rt)
		t.pats = append(t.pats, p)
		t.given = append(t.given, n)
		key := foldKey(p.Host())
		if _, ok := t.byHost[key]; !ok {
			t.hosts = append(t.hosts, p.Host())
		}
		t.byHost[key] = append(t.byHost[key], compiled{pat: p, index: i})
		t.routed[rt.Token] = true
	}
	for _, list := range t.byHost {
		slices.SortStableFunc(list, func(a, b compiled) int { return b.pat.Specificity() - a.pat.Specificity() })
	}
	return t
}

// foldKey maps s to a key that two strings share exactly when
// strings.EqualFold reports them equal: each rune becomes the smallest
// rune of its case-folding orbit.
func foldKey(s string) string { return string(appendFoldKey(make([]byte, 0, len(s)), s)) }

// appendFoldKey appends foldKey(s) to b. The smallest rune of an ASCII
// letter's orbit is its upper case (the orbits of k and s also hold the
// Kelvin sign and the long s, both above ASCII), so ASCII takes no
// lookup in the Unicode tables. A lookup of a map keyed by foldKey with
// string(appendFoldKey(buf[:0], s)) allocates nothing.
func appendFoldKey(b []byte, s string) []byte {
	start := len(b)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return appendFoldRunes(b[:start], s)
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

func appendFoldRunes(b []byte, s string) []byte {
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b = utf8.AppendRune(b, m)
	}
	return b
}

// Len returns the number of routes in t.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.routes)
}

// Routes returns t's routes in the order they were given. The slice is a
// copy; the routes' Permissions must not be modified.
func (t *Table) Routes() []Route {
	if t == nil {
		return nil
	}
	return slices.Clone(t.routes)
}

// Hosts returns the hosts t's routes are for, lowercased, each once, in the
// order the routes were given.
func (t *Table) Hosts() []string {
	if t == nil {
		return nil
	}
	return slices.Clone(t.hosts)
}

// PathRoutes returns the routes for host that name an owner or a
// repository, and so need git to send the path, in the order they were
// given.
func (t *Table) PathRoutes(host string) []Route {
	var idx []int
	for _, c := range t.forHost(strings.ToLower(host)) {
		if c.pat.HasPath() {
			idx = append(idx, c.index)
		}
	}
	slices.Sort(idx)
	var out []Route
	for _, j := range idx {
		out = append(out, t.routes[j])
	}
	return out
}

// HasPathRoutes reports whether some route for host names an owner or a
// repository, and so needs git to send the path.
func (t *Table) HasPathRoutes(host string) bool {
	return slices.ContainsFunc(t.forHost(strings.ToLower(host)), func(c compiled) bool { return c.pat.HasPath() })
}

// Lookup returns the most specific route that matches host and path (path
// read as CanonicalPath reads it) and its index in the routes given to
// Compile; -1 when none matches. Decide goes further down the matches only
// for a username git sent.
func (t *Table) Lookup(host, path string) (Route, int) {
	for i := range t.matching(ParseTarget(host, path)) {
		return t.routes[i], t.given[i]
	}
	return Route{}, -1
}

// reserves reports whether some route names token.
func (t *Table) reserves(token string) bool { return t != nil && t.routed[token] }

// NamedBy returns the first route, in the config's order, that names
// token, and whether one does.
func (t *Table) NamedBy(token string) (Route, bool) {
	if !t.reserves(token) {
		return Route{}, false
	}
	for _, r := range t.routes {
		if r.Token == token {
			return r, true
		}
	}
	return Route{}, false
}

// forHost returns the routes for host, lowercased as ParseTarget and
// ParsePattern lowercase it, most specific first.
func (t *Table) forHost(host string) []compiled {
	if t == nil {
		return nil
	}
	var k [64]byte
	return t.byHost[string(appendFoldKey(k[:0], host))]
}

// matching yields the index of every route that matches target, most
// specific first.
func (t *Table) matching(target Target) iter.Seq[int] {
	return func(yield func(int) bool) {
		if target.Bad {
			return
		}
		for _, c := range t.forHost(target.Host) {
			if c.pat.Matches(target) && !yield(c.index) {
				return
			}
		}
	}
}
