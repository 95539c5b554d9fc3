// Package policy decides which token, if any, answers a request. It is pure:
// a request and the tokens and routes go in, a decision with its reasons
// comes out. No I/O, no clock, no secrets. Routes are compiled once into a
// Table, the one matcher that requests, grants and keyfob's checks share.
package policy

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// Request is what a client asks for.
type Request struct {
	Protocol string
	Host     string // host[:port], as git sends it
	Path     string // "owner/repo.git", "" when git sends no path
	Username string // "" when git sends none
	// EmptyUsername is set when git sent an explicit empty username
	// (username=, from a URL like https://@host/): only a token whose
	// username is empty may answer.
	EmptyUsername bool
	// Now is the time of the request: a token whose Expires is not after
	// it cannot answer. Policy has no clock of its own.
	Now time.Time
}

// Token is what policy needs to know of a token.
type Token struct {
	Name     string
	Hosts    []string
	Username string
	// Unusable, when set, says why the token must not answer (for
	// example "invalid: the API answered 401").
	Unusable string
	// Expires, when set, is when the token stops working; from then on
	// it answers nothing (git 2.41 and later would drop it anyway).
	Expires time.Time
	// App is set for a GitHub App, which mints a token per request
	// rather than holding one.
	App bool
}

// userMatches reports whether a token with username u may answer r: any
// token when git sent no username, else only one with git's username.
func (r Request) userMatches(u string) bool {
	return r.Username == "" && !r.EmptyUsername || r.Username == u
}

// Why says why t cannot answer at now (invalid, expired), "" when it can.
func (t Token) Why(now time.Time) string { return t.unusable(now) }

// unusable says why t cannot answer at now, "" when it can.
func (t Token) unusable(now time.Time) string {
	if t.Unusable != "" {
		return t.Unusable
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return fmt.Sprintf("token %s expired %s UTC: run keyfob rotate %s", t.Name, t.Expires.UTC().Format(time.DateTime), t.Name)
	}
	return ""
}

// Route sends requests that match Match to Token.
type Route struct {
	Match string
	Token string
	// Source says where the route was written ("config.toml:7"), for
	// messages; "" when unknown.
	Source string
	// Permissions narrow a token minted from a GitHub App; RequireRepo
	// refuses to mint one for the whole installation when the request
	// names no repository. Both apply to apps only.
	Permissions Permissions
	RequireRepo bool
}

// Describe names the route and, when known, where it was written.
func (r Route) Describe() string {
	if r.Source == "" {
		return "route " + r.Match
	}
	return "route " + r.Match + " (" + r.Source + ")"
}

// Outcome of a decision.
type Outcome int

// Outcomes.
const (
	NoMatch Outcome = iota
	Granted
	Denied
)

// Candidate is one token considered, and why it did or did not answer.
type Candidate struct {
	Token  string
	Chosen bool
	Reason string
}

// Decision is the answer, with its reasons.
type Decision struct {
	Outcome    Outcome
	Token      string
	Route      string
	Reason     string
	Candidates []Candidate
	// PathRoutes is set when git sent no path although routes for
	// repositories on this host exist: only host-level routes could match.
	PathRoutes bool
	// Matched is the route that chose the token, zero when none did.
	Matched Route
	// Claimed is set when a route matched the request or a token's
	// allowlist has its host, whether or not one could answer: the
	// request is keyfob's tokens' business, and nothing else (a
	// remembered credential) may answer in their place.
	Claimed bool
	// PlainHTTP is set when the request was refused only for being plain
	// http to a host that is not loopback.
	PlainHTTP bool

	explain bool
}

// errPlainHTTP is why a request for a host that is not loopback over http
// is refused.
var errPlainHTTP = errors.New("refusing to send a token over plain http")

// CheckRequest refuses requests keyfob never answers: a token travels only
// over https, or plain http to a loopback host, and no value may carry NUL,
// CR or LF.
func CheckRequest(r Request) error {
	for _, v := range []string{r.Protocol, r.Host, r.Path, r.Username} {
		if strings.ContainsAny(v, "\x00\r\n") {
			return fmt.Errorf("value contains NUL, CR or LF")
		}
	}
	if r.Host == "" {
		return fmt.Errorf("no host")
	}
	if _, err := CanonicalPath(r.Path); err != nil {
		return fmt.Errorf("path %q: %w", r.Path, err)
	}
	switch r.Protocol {
	case "https":
		return nil
	case "http":
		if IsLoopback(r.Host) {
			return nil
		}
		return fmt.Errorf("%w to %s: only loopback hosts may use http", errPlainHTTP, r.Host)
	default:
		return fmt.Errorf("protocol %q is not https", r.Protocol)
	}
}

// IsLoopback reports whether host[:port] names the local machine.
func IsLoopback(hostport string) bool {
	h := hostname(hostport)
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

// HostAllowed reports whether host[:port] is in a token's allowlist. Hosts
// compare exactly, port included, and case-insensitively.
func HostAllowed(hosts []string, host string) bool {
	return slices.ContainsFunc(hosts, func(h string) bool { return strings.EqualFold(h, host) })
}

// Decide picks the token for r. The most specific matching route of routes
// wins; with no matching route, the one token whose hosts include r.Host
// answers. When git sends a username, only a token with that username may
// answer. A nil routes has no routes.
//
// Decision.Candidates lists the tokens Decide looked at; Explain lists
// every token with its reason, at a cost linear in the tokens held, which a
// git get does not pay.
func Decide(r Request, toks []Token, routes *Table) Decision { return decide(r, toks, routes, false) }

// Explain is Decide with a reason for every token, for keyfob which.
func Explain(r Request, toks []Token, routes *Table) Decision { return decide(r, toks, routes, true) }

func decide(r Request, toks []Token, routes *Table, explain bool) Decision {
	if err := CheckRequest(r); err != nil {
		return Decision{Outcome: Denied, Reason: err.Error(), PlainHTTP: errors.Is(err, errPlainHTTP)}
	}
	byName := func(name string) (Token, bool) {
		if i := slices.IndexFunc(toks, func(t Token) bool { return t.Name == name }); i >= 0 {
			return toks[i], true
		}
		return Token{}, false
	}
	d := Decision{explain: explain}
	seen := map[string]bool{}
	consider := func(t Token, why string) bool {
		if seen[t.Name] {
			return false
		}
		seen[t.Name] = true
		reason := ""
		switch {
		case !HostAllowed(t.Hosts, r.Host):
			reason = fmt.Sprintf("host %s is not in its allowlist", r.Host)
		case !r.userMatches(t.Username):
			reason = fmt.Sprintf("username %q does not match git's %q", t.Username, r.Username)
		case t.unusable(r.Now) != "":
			reason = t.unusable(r.Now)
		}
		if reason != "" {
			d.Candidates = append(d.Candidates, Candidate{Token: t.Name, Reason: reason})
			return false
		}
		d.Candidates = append(d.Candidates, Candidate{Token: t.Name, Chosen: true, Reason: why})
		return true
	}

	target := ParseTarget(r.Host, r.Path)
	d.PathRoutes = target.Owner == "" && routes.HasPathRoutes(r.Host)
	d.Claimed = slices.ContainsFunc(toks, func(t Token) bool { return HostAllowed(t.Hosts, r.Host) })
	for i := range routes.matching(target) {
		d.Claimed = true
		rt := routes.routes[i]
		// A broken route answers nothing rather than letting a less
		// specific route or the host's fallback token answer in its place.
		t, ok := byName(rt.Token)
		if !ok {
			d.Outcome, d.Reason = NoMatch, fmt.Sprintf("%s names token %q, which does not exist", rt.Describe(), rt.Token)
			d.markOthers(toks, r.Host, "the matching route is broken")
			return d
		}
		if !HostAllowed(t.Hosts, r.Host) {
			d.Outcome, d.Reason = NoMatch, fmt.Sprintf("%s names token %s, whose allowlist does not have %s", rt.Describe(), t.Name, r.Host)
			d.markOthers(toks, r.Host, "the matching route is broken")
			return d
		}
		if consider(t, rt.Describe()) {
			d.Outcome, d.Token, d.Route, d.Reason = Granted, t.Name, rt.Match, rt.Describe()
			d.Matched = rt
			d.markOthers(toks, r.Host, "a more specific route chose "+t.Name)
			return d
		}
		// The route chose a token that cannot answer now (expired,
		// invalid): nothing answers, rather than a less specific route
		// or the host's other tokens. Only a username git sent, which
		// picks the account, moves on to the next route.
		if why := t.unusable(r.Now); why != "" && r.userMatches(t.Username) {
			d.Outcome, d.Reason, d.Matched = NoMatch, fmt.Sprintf("%s chose %s, which cannot answer: %s", rt.Describe(), t.Name, why), rt
			d.markOthers(toks, r.Host, "the matching route chose "+t.Name)
			return d
		}
	}

	// No route answered: the tokens whose allowlist has the host. A token
	// that routes reserve for other repositories answers only when no
	// unreserved token does.
	var free, reserved []Token
	for _, t := range toks {
		if seen[t.Name] || !HostAllowed(t.Hosts, r.Host) {
			continue
		}
		if !r.userMatches(t.Username) || t.unusable(r.Now) != "" {
			consider(t, "")
			continue
		}
		switch {
		case routes.reserves(t.Name) && t.App:
			// An App that routes name answers through them only, with
			// their permissions and require_repo: never by this fallback,
			// which would mint a token for the whole installation.
			seen[t.Name] = true
			d.Candidates = append(d.Candidates, Candidate{Token: t.Name, Reason: "a GitHub App answers only through the routes that name it"})
		case routes.reserves(t.Name):
			reserved = append(reserved, t)
		default:
			free = append(free, t)
		}
	}
	pool := free
	if len(pool) == 0 {
		pool = reserved
	}
	switch len(pool) {
	case 0:
		d.Outcome, d.Reason = NoMatch, "no token for this remote"
		// A token that would answer but must not says why, so the
		// user learns what to fix.
		for _, t := range toks {
			if why := t.unusable(r.Now); why != "" && HostAllowed(t.Hosts, r.Host) && r.userMatches(t.Username) {
				d.Reason = why
				break
			}
		}
	case 1:
		t := pool[0]
		why := "its allowlist has " + r.Host
		if r.Username != "" {
			why += " and its username is " + r.Username
		}
		consider(t, why)
		d.Outcome, d.Token, d.Reason = Granted, t.Name, why
	default:
		var names []string
		for _, t := range pool {
			names = append(names, t.Name)
			seen[t.Name] = true
			d.Candidates = append(d.Candidates, Candidate{Token: t.Name, Reason: "ambiguous: several tokens allow " + r.Host})
		}
		d.Outcome = NoMatch
		d.Reason = fmt.Sprintf("ambiguous: tokens %s all allow %s; add a route, or use a username in the URL", strings.Join(names, ", "), r.Host)
	}
	d.markOthers(toks, r.Host, "routes reserve it for the repositories they name")
	return d
}

// markOthers records every token not yet considered: a token whose
// allowlist lacks the host says so, the others get reason.
func (d *Decision) markOthers(toks []Token, host, reason string) {
	if !d.explain {
		return
	}
	seen := make(map[string]bool, len(d.Candidates))
	for _, c := range d.Candidates {
		seen[c.Token] = true
	}
	notAllowed := "host " + host + " is not in its allowlist"
	for _, t := range toks {
		if seen[t.Name] {
			continue
		}
		why := reason
		if !HostAllowed(t.Hosts, host) {
			why = notAllowed
		}
		d.Candidates = append(d.Candidates, Candidate{Token: t.Name, Reason: why})
	}
}
