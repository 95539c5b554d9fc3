package policy

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// The pools FuzzDecide draws from. Hosts differ in case, port and case
// folding ("ſ" folds to "s", the Kelvin sign to "k"), so the host index is
// tested against strings.EqualFold.
var (
	fuzzHosts  = []string{"github.com", "GitHub.com", "ghe.corp", "ghe.corp:8443", "gitsub.com", "gitſub.com", "key.com", "\u212aey.com", "127.0.0.1:8080"}
	fuzzOwners = []string{"acme", "ACME", "globex", "*"}
	fuzzRepos  = []string{"app", "App.git", "x", "*"}
	fuzzTokens = []string{"t0", "t1", "t2", "t3", "missing"}
	fuzzUsers  = []string{"", "x-access-token", "alice", "bob"}
)

// fuzzBytes hands out the bytes of a fuzz input, then zeros.
type fuzzBytes []byte

func (b *fuzzBytes) next() int {
	if len(*b) == 0 {
		return 0
	}
	c := (*b)[0]
	*b = (*b)[1:]
	return int(c)
}

func pick[T any](b *fuzzBytes, from []T) T { return from[b.next()%len(from)] }

// fuzzCase builds routes, tokens and a request (without its path) from spec.
func fuzzCase(spec []byte) ([]Route, []Token, Request) {
	b := fuzzBytes(spec)
	var routes []Route
	for i := range b.next() % 8 {
		m := pick(&b, fuzzHosts)
		switch n := b.next(); {
		case n%16 == 15:
			m += "/a*" // does not parse
		case n%3 >= 1:
			m += "/" + pick(&b, fuzzOwners)
			if n%3 == 2 {
				m += "/" + pick(&b, fuzzRepos)
			}
		}
		routes = append(routes, Route{Match: m, Token: pick(&b, fuzzTokens), Source: fmt.Sprintf("r%d", i)})
	}
	var toks []Token
	for _, name := range fuzzTokens[:4] {
		n := b.next()
		if n%4 == 0 {
			continue // not held
		}
		t := Token{Name: name, Username: pick(&b, fuzzUsers[:3])}
		for i, h := range fuzzHosts {
			if n>>2&(1<<(i%6)) != 0 {
				t.Hosts = append(t.Hosts, h)
			}
		}
		switch b.next() % 5 {
		case 1:
			t.Expires = testNow.Add(-time.Hour)
		case 2:
			t.Expires = testNow // expired at this very instant
		case 3:
			t.Expires = testNow.Add(time.Hour)
		case 4:
			t.Unusable = "token " + name + " is invalid (401): run keyfob rotate " + name
		}
		toks = append(toks, t)
	}
	proto := "https"
	if b.next()%8 == 0 {
		proto = "http"
	}
	return routes, toks, Request{Protocol: proto, Host: pick(&b, fuzzHosts), Username: pick(&b, fuzzUsers), Now: testNow}
}

// referenceRoute is the route that decides r, found the slow way: every
// route parsed, the matches sorted most specific first (ties in the order
// given), and walked until one answers or fails closed. It returns the
// route's index, -1 when no route decides, and whether it grants.
func referenceRoute(routes []Route, toks []Token, r Request) (int, bool) {
	target := ParseTarget(r.Host, r.Path)
	type match struct{ i, spec int }
	var ms []match
	for i, rt := range routes {
		if p, err := ParsePattern(rt.Match); err == nil && p.Matches(target) {
			ms = append(ms, match{i, p.Specificity()})
		}
	}
	slices.SortStableFunc(ms, func(a, b match) int { return b.spec - a.spec })
	for _, m := range ms {
		rt := routes[m.i]
		j := slices.IndexFunc(toks, func(t Token) bool { return t.Name == rt.Token })
		if j < 0 || !HostAllowed(toks[j].Hosts, r.Host) {
			return m.i, false // a broken route answers nothing
		}
		if t := toks[j]; r.Username == "" || r.Username == t.Username {
			return m.i, t.unusable(r.Now) == ""
		}
		// Only a username git sent moves on to the next route.
	}
	return -1, false
}

// FuzzDecide checks the matcher's properties on generated routes, tokens
// and requests: a granted token allows the host and is usable; the route
// that decides is the most specific matching one; a path CanonicalPath
// refuses gets nothing, and a path decides as its canonical form does.
func FuzzDecide(f *testing.F) {
	for _, seed := range []struct {
		spec []byte
		path string
	}{
		{[]byte{1, 0, 1, 0, 0, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "acme/app.git"},
		{[]byte{3, 0, 2, 0, 0, 1, 0, 1, 0, 2, 3, 5, 0, 1, 9, 1, 5, 2, 0, 0}, "acme/app.git"},
		{[]byte{3, 0, 2, 0, 0, 1, 0, 1, 0, 2, 3, 5, 0, 1, 9, 1, 5, 2, 0, 0}, "acme/../globex/app.git"},
		{[]byte{3, 0, 2, 0, 0, 1, 0, 1, 0, 2, 3, 5, 0, 1, 9, 1, 5, 2, 0, 0}, "./acme//app.git/"},
		{[]byte{2, 4, 2, 1, 1, 0, 5, 0, 0, 0xfd, 0, 0, 0xfd, 1, 3}, "acme%2Fapp"},
		{[]byte{2, 0, 1, 0, 0, 0, 0, 1, 0xff, 1, 1, 0xff, 2, 2, 0, 0, 0, 0, 0, 3}, `acme\app`},
		{[]byte{2, 0, 2, 0, 0, 0, 0, 0, 0, 1, 0xfd, 1, 3, 0xfd, 2, 0, 0, 0, 0, 0, 1}, "acme/app.git"},
		{[]byte{1, 5, 1, 0, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}, "ACME/x"},
		{nil, ""},
	} {
		f.Add(seed.spec, seed.path)
	}
	f.Fuzz(func(t *testing.T, spec []byte, path string) {
		routes, toks, r := fuzzCase(spec)
		r.Path = path
		tab := Compile(routes)
		d := Decide(r, toks, tab)
		// The index reads fewer tokens and decides the same.
		if v := NewView(toks).Decide(r, tab); !reflect.DeepEqual(v, d) {
			t.Fatalf("Decide = %+v, but on a View %+v", d, v)
		}
		if e := Explain(r, toks, tab); e.Outcome != d.Outcome || e.Token != d.Token || e.Reason != d.Reason {
			t.Fatalf("Decide = %v %q (%s), but Explain = %v %q (%s)", d.Outcome, d.Token, d.Reason, e.Outcome, e.Token, e.Reason)
		}
		if d.Outcome == Granted {
			j := slices.IndexFunc(toks, func(x Token) bool { return x.Name == d.Token })
			switch {
			case j < 0:
				t.Fatalf("Decide granted %q, which is not held", d.Token)
			case !HostAllowed(toks[j].Hosts, r.Host): // (a)
				t.Fatalf("Decide granted %s for %s, whose allowlist is %v", d.Token, r.Host, toks[j].Hosts)
			case toks[j].unusable(r.Now) != "": // (e)
				t.Fatalf("Decide granted %s, which cannot answer: %s", d.Token, toks[j].unusable(r.Now))
			case r.Username != "" && r.Username != toks[j].Username:
				t.Fatalf("Decide granted %s (username %q) for git's username %q", d.Token, toks[j].Username, r.Username)
			}
		}
		canon, err := CanonicalPath(path)
		if err != nil { // (c)
			if d.Outcome != Denied || d.Token != "" {
				t.Fatalf("Decide(path %q, refused: %v) = %v %q, want Denied", path, err, d.Outcome, d.Token)
			}
			if _, i := tab.Lookup(r.Host, path); i != -1 {
				t.Fatalf("Lookup(path %q, refused) = %d, want -1", path, i)
			}
			return
		}
		cr := r
		cr.Path = canon
		if c := Decide(cr, toks, tab); c.Outcome != d.Outcome || c.Token != d.Token || c.Route != d.Route || c.Reason != d.Reason ||
			c.PathRoutes != d.PathRoutes || !reflect.DeepEqual(c.Matched, d.Matched) { // (d)
			t.Fatalf("Decide(path %q) = %v %q %q (%s), but its canonical form %q = %v %q %q (%s)",
				path, d.Outcome, d.Token, d.Route, d.Reason, canon, c.Outcome, c.Token, c.Route, c.Reason)
		}
		if d.Outcome == Denied {
			return // refused before any route is looked at (protocol, CR or LF)
		}
		// (b): the route that decides is the most specific match.
		want, grants := referenceRoute(routes, toks, r)
		switch {
		case want >= 0 && grants:
			if d.Outcome != Granted || d.Token != routes[want].Token || d.Route != routes[want].Match || d.Matched.Source != routes[want].Source {
				t.Fatalf("Decide = %v %q via %q (%s), want %s via %s", d.Outcome, d.Token, d.Matched.Source, d.Reason, routes[want].Token, routes[want].Source)
			}
		case want >= 0:
			if d.Outcome != NoMatch || d.Token != "" {
				t.Fatalf("Decide = %v %q (%s), want nothing: %s decides and cannot answer", d.Outcome, d.Token, d.Reason, routes[want].Source)
			}
		default:
			if d.Route != "" || d.Matched.Source != "" {
				t.Fatalf("Decide chose route %q (%s), but no route decides", d.Route, d.Matched.Source)
			}
		}
		// Grants use the same matcher: its most specific match.
		first := referenceFirst(routes, r)
		if _, i := tab.Lookup(r.Host, r.Path); i != first {
			t.Fatalf("Lookup(%s, %q) = %d, want %d", r.Host, r.Path, i, first)
		}
	})
}

// referenceFirst is the most specific route matching r, found by parsing
// every route; -1 when none matches.
func referenceFirst(routes []Route, r Request) int {
	target := ParseTarget(r.Host, r.Path)
	best, spec := -1, 0
	for i, rt := range routes {
		if p, err := ParsePattern(rt.Match); err == nil && p.Matches(target) && (best < 0 || p.Specificity() > spec) {
			best, spec = i, p.Specificity()
		}
	}
	return best
}
