package policy

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a route, with where it was written.
type Problem struct {
	Source string // "config.toml:7", "" when unknown
	Msg    string
}

func (p Problem) Error() string {
	if p.Source == "" {
		return p.Msg
	}
	return p.Source + ": " + p.Msg
}

// CheckRoutes finds what is wrong with routes on their own: a match that does
// not parse, an empty token name, and two routes that overlap with the same
// specificity and name different tokens (a tie: neither is more specific).
func CheckRoutes(routes []Route) []Problem {
	var probs []Problem
	pats := make([]Pattern, len(routes))
	ok := make([]bool, len(routes))
	for i, rt := range routes {
		p, err := ParsePattern(rt.Match)
		switch {
		case err != nil:
			probs = append(probs, Problem{rt.Source, "route: " + err.Error()})
			continue
		case rt.Token == "":
			probs = append(probs, Problem{rt.Source, fmt.Sprintf("route %s: token is missing", rt.Match)})
		}
		pats[i], ok[i] = p, true
	}
	for i := range routes {
		for j := i + 1; j < len(routes); j++ {
			if !ok[i] || !ok[j] || routes[i].Token == routes[j].Token {
				continue
			}
			if pats[i].Specificity() == pats[j].Specificity() && pats[i].Overlaps(pats[j]) {
				probs = append(probs, Problem{routes[j].Source, fmt.Sprintf(
					"route %s (token %s) ties with %s (token %s): both match the same repositories and neither is more specific",
					routes[j].Match, routes[j].Token, where(routes[i]), routes[i].Token)})
			}
		}
	}
	return probs
}

func where(rt Route) string {
	if rt.Source == "" {
		return rt.Match
	}
	return rt.Match + " at " + rt.Source
}

// CheckTokens finds routes that cannot answer with the tokens there are: a
// route naming a token that does not exist, or a token whose host allowlist
// does not have the route's host. Such a route answers nothing (Decide fails
// closed), so the agent reports them whenever the tokens or routes change.
func CheckTokens(routes *Table, toks []Token) []Problem {
	if routes == nil {
		return nil
	}
	byName := make(map[string]Token, len(toks))
	for _, t := range toks {
		byName[t.Name] = t
	}
	var probs []Problem
	for i, rt := range routes.routes {
		p := routes.pats[i]
		if rt.Token == "" {
			continue // CheckRoutes reports these
		}
		t, ok := byName[rt.Token]
		switch {
		case !ok:
			probs = append(probs, Problem{rt.Source, fmt.Sprintf("route %s names token %q, which does not exist (keyfob list shows the names)", rt.Match, rt.Token)})
		case !HostAllowed(t.Hosts, p.Host()):
			probs = append(probs, Problem{rt.Source, fmt.Sprintf("route %s names token %s, whose hosts (%s) do not include %s",
				rt.Match, t.Name, strings.Join(t.Hosts, ", "), p.Host())})
		case !t.App && (len(rt.Permissions) > 0 || rt.RequireRepo):
			probs = append(probs, Problem{rt.Source, fmt.Sprintf("route %s sets permissions or require_repo, which narrow GitHub App tokens only, but %s is a stored token",
				rt.Match, t.Name)})
		}
	}
	return probs
}
