package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/vault"
)

// SAML single sign-on: an organization that enforces it answers 403 with
// X-GitHub-SSO: required; url=… to a token not authorized for it. keyfob
// asks at validation, at re-validation after a rejection, and for every
// owner a route sends to a token (GET /orgs/OWNER) at add and rotate,
// after unlock and after a config change. What it finds is held in memory
// with the token's fingerprint and shown as the state sso-required; the
// next check that gets an answer for the organization clears it.

// StateSSO is the state of a token an organization refuses until the token
// is authorized for its SAML single sign-on.
const StateSSO = "sso-required"

// maxOwnerChecks bounds the GET /orgs/OWNER calls of one check of a token.
const maxOwnerChecks = 50

// ssoHit is one organization that asks for authorization.
type ssoHit struct {
	Org, URL string
	// lastWarn is when the helper last warned about it.
	lastWarn time.Time
}

// ssoFinding is what one check found for an organization: a hit, or,
// with URL "", that the organization answered and asks for nothing.
type ssoFinding struct {
	Org, URL string
}

// ssoTable holds the organizations asking for authorization, per token.
type ssoTable struct {
	mu sync.Mutex
	m  map[string]*ssoToken // token name
}

type ssoToken struct {
	fp   string
	orgs map[string]*ssoHit // lower-case org
}

// note records findings for token name with fingerprint fp.
func (t *ssoTable) note(name, fp string, fs []ssoFinding) {
	if len(fs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*ssoToken{}
	}
	st := t.m[name]
	if st == nil || st.fp != fp {
		st = &ssoToken{fp: fp, orgs: map[string]*ssoHit{}}
		t.m[name] = st
	}
	for _, f := range fs {
		k := strings.ToLower(f.Org)
		switch {
		case f.URL == "":
			delete(st.orgs, k)
		case st.orgs[k] == nil:
			st.orgs[k] = &ssoHit{Org: f.Org, URL: f.URL}
		default:
			st.orgs[k].URL = f.URL
		}
	}
	if len(st.orgs) == 0 {
		delete(t.m, name)
	}
}

// of returns the organizations asking token name (fingerprint fp) for
// authorization, sorted.
func (t *ssoTable) of(name, fp string) []ssoHit {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.m[name]
	if st == nil || st.fp != fp {
		return nil
	}
	var out []ssoHit
	for _, k := range slices.Sorted(maps.Keys(st.orgs)) {
		out = append(out, *st.orgs[k])
	}
	return out
}

// warnOnce returns the hit for owner when its warning is due (once an
// hour), and marks it warned.
func (t *ssoTable) warnOnce(name, fp, owner string, now time.Time) (ssoHit, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.m[name]
	if st == nil || st.fp != fp || owner == "" {
		return ssoHit{}, false
	}
	h := st.orgs[strings.ToLower(owner)]
	if h == nil || (!h.lastWarn.IsZero() && now.Sub(h.lastWarn) < time.Hour) {
		return ssoHit{}, false
	}
	h.lastWarn = now
	return *h, true
}

// ssoReason says what the hits ask of the user.
func ssoReason(hits []ssoHit) string {
	var parts []string
	for _, h := range hits {
		parts = append(parts, fmt.Sprintf("organization %s enforces SAML SSO: authorize the token at %s", h.Org, h.URL))
	}
	return strings.Join(parts, "; ")
}

// ssoInfo lists the hits for status --json.
func ssoInfo(hits []ssoHit) []client.SSO {
	var out []client.SSO
	for _, h := range hits {
		out = append(out, client.SSO{Org: h.Org, URL: h.URL})
	}
	return out
}

// ssoWarning returns a line for the helper's stderr when owner asks e for
// SAML SSO authorization, at most once an hour per token and owner.
func (a *Agent) ssoWarning(e *vault.Entry, c *client.Credential, now time.Time) string {
	if c == nil {
		return ""
	}
	t := policy.ParseTarget(c.Host, c.Path)
	h, ok := a.sso.warnOnce(e.Name, e.FP, t.Owner, now)
	if !ok {
		return ""
	}
	return fmt.Sprintf("token %s is %s for %s: the organization enforces SAML SSO; authorize the token at %s", e.Name, StateSSO, h.Org, h.URL)
}

// routedOwners returns the GitHub owners that routes send to token name
// among hosts, each with its API base: the owners of matches such as
// github.com/acme and ghe.example.com/acme/app.
func (a *Agent) routedOwners(name string, hosts []string) []ownerRef {
	gh := a.githubHosts()
	seen := map[string]bool{}
	var out []ownerRef
	for _, r := range a.currentRoutes().Routes() {
		if r.Token != name {
			continue
		}
		p, err := policy.ParsePattern(r.Match)
		if err != nil || !p.HasPath() || !policy.HostAllowed(hosts, p.Host()) {
			continue
		}
		segs := strings.Split(p.String(), "/")
		owner := segs[1]
		base, ok := gh.API(p.Host())
		if owner == "*" || !ok {
			continue
		}
		k := base + "\x00" + strings.ToLower(owner)
		if seen[k] || len(out) == maxOwnerChecks {
			continue
		}
		seen[k] = true
		out = append(out, ownerRef{base: base, owner: owner})
	}
	return out
}

type ownerRef struct{ base, owner string }

// checkOwners asks GET /orgs/OWNER for every owner routed to token name,
// within ctx, and returns what it found. An owner that does not answer
// (the network, a 5xx) is left out: its state stays as it was.
func (a *Agent) checkOwners(ctx context.Context, name string, hosts []string, secret client.Secret) []ssoFinding {
	var out []ssoFinding
	for _, o := range a.routedOwners(name, hosts) {
		err := github.New(o.base).Org(ctx, secret, o.owner)
		if u, org, ok := github.SSORequired(err); ok {
			out = append(out, ssoFinding{Org: cmpOr(org, o.owner), URL: u})
			continue
		}
		if answered(err) {
			out = append(out, ssoFinding{Org: o.owner})
		}
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

// answered reports whether an API call got an answer about its
// resource: a 2xx or a 4xx other than an SSO 403.
func answered(err error) bool {
	if err == nil {
		return true
	}
	var ae *github.APIError
	return errors.As(err, &ae) && ae.Status < 500 && ae.SSO == ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// startOwnerChecks checks the routed owners of every token in the
// background (after unlock and after a config change), until Shutdown at
// most. A check already running is not doubled: a new one waits for it.
func (a *Agent) startOwnerChecks() {
	if a.life.Err() != nil {
		return
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		a.ownerCheckMu.Lock()
		defer a.ownerCheckMu.Unlock()
		s := a.vault.Snapshot()
		for _, name := range slices.Sorted(maps.Keys(s.Tokens)) {
			e := s.Tokens[name]
			if a.life.Err() != nil {
				return
			}
			if len(a.routedOwners(name, e.Meta.Hosts)) == 0 {
				continue
			}
			secret, ok := e.Secret()
			if !ok {
				continue
			}
			ctx, cancel := context.WithTimeout(a.life, validateTimeout)
			fs := a.checkOwners(ctx, name, e.Meta.Hosts, secret)
			cancel()
			secret.Wipe()
			if cur := a.vault.Snapshot().Tokens[name]; cur != nil && cur.FP == e.FP {
				a.sso.note(name, e.FP, fs)
			}
			for _, h := range a.sso.of(name, e.FP) {
				a.log.Warn("token needs SAML SSO authorization", zap.String("token", name), zap.String("org", h.Org), zap.String("url", h.URL))
			}
		}
	}()
}
