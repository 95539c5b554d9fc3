package grant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
)

// create makes a grant from spec, or says why not; both are audited.
func (m *Manager) create(ctx context.Context, peer peercred.Cred, spec *client.GrantSpec) *client.Response {
	ev := audit.Event{Op: client.OpGrant}
	fail := func(code, msg, hint string) *client.Response {
		ev.Decision, ev.Reason = audit.Failed, msg
		return m.answer(peer, agent.Outcome{Resp: errResp(code, msg, hint), Event: ev})
	}
	if spec == nil {
		return fail(client.CodeBadRequest, "grant needs a spec", "")
	}
	ev.Grant = spec.Label
	g, err := m.parse(spec)
	if err != nil {
		return fail(client.CodeBadRequest, err.Error(), "")
	}
	ev.Grant = g.label
	if r := m.routable(ctx, peer, g); r != nil {
		return fail(r.Code, r.Error, r.Hint)
	}

	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return fail(client.CodeUnavailable, "the agent is stopping", "")
	case m.grants[g.label] != nil:
		m.mu.Unlock()
		return fail(client.CodeBadRequest, "a grant labelled "+g.label+" exists", "keyfob revoke "+g.label+" ends it, or choose another --label")
	case len(m.grants) >= MaxGrants:
		m.mu.Unlock()
		return fail(client.CodeUnavailable, fmt.Sprintf("%d grants are alive, the most keyfob keeps", MaxGrants), "keyfob grants lists them; keyfob revoke LABEL ends one")
	}
	m.grants[g.label] = g // holds the label while the socket or file is made
	m.mu.Unlock()

	// The grant is audited before its socket or file exists: a grant that
	// cannot be audited is not made.
	ev.Decision = audit.Changed
	ev.Reason = fmt.Sprintf("%s for %s (tokens %s) until %s", g.mode, strings.Join(g.urls, " "), strings.Join(g.bound, " "), g.expires.UTC().Format(time.RFC3339))
	if g.maxUses > 0 {
		ev.Reason += fmt.Sprintf(", at most %d uses", g.maxUses)
	}
	if g.mode == client.GrantSocket {
		ev.Reason += fmt.Sprintf(", peer uids %v", g.uids)
	}
	var opened *client.Response // why the socket or file could not be made
	unhold := func() {
		m.mu.Lock()
		delete(m.grants, g.label)
		m.mu.Unlock()
	}
	r := m.answer(peer, agent.Outcome{Resp: &client.Response{}, Event: ev, Change: &agent.Change{
		Commit: func() error {
			if g.mode == client.GrantSocket {
				opened = m.openSocket(g)
			} else {
				opened = m.openFile(ctx, peer, g)
			}
			if opened == nil {
				return nil
			}
			unhold()
			if g.ownDir != "" {
				os.RemoveAll(g.ownDir)
			}
			return errors.New(opened.Error)
		},
		Failed: func(error) (*client.Response, string) {
			return errResp(opened.Code, opened.Error, opened.Hint), opened.Error
		},
		Undo: unhold,
	}})
	if r.Code != "" {
		return r
	}
	g.mu.Lock()
	ended := g.ended
	g.mu.Unlock()
	if ended {
		return fail(client.CodeUnavailable, "the agent is stopping", "")
	}
	m.saveRecord(g)
	m.log.Info("grant created", zap.String("grant", g.label), zap.String("mode", g.mode), zap.String("path", g.path),
		zap.Strings("urls", g.urls), zap.Time("expires", g.expires))
	m.wake()
	return &client.Response{Grants: []client.GrantInfo{g.info()}}
}

// parse checks spec and turns it into a grant that is not yet open.
func (m *Manager) parse(spec *client.GrantSpec) (*grant, error) {
	if len(spec.URLs) == 0 {
		return nil, errors.New("a grant needs at least one --url")
	}
	now := m.now()
	g := &grant{mode: spec.Mode, maxUses: spec.MaxUses, created: now, done: make(chan struct{})}
	var repos []policy.Route
	for _, u := range spec.URLs {
		c, p, err := parseURL(u)
		if err != nil {
			return nil, err
		}
		if spec.Mode == client.GrantFile && strings.HasSuffix(p.String(), "/*") {
			return nil, fmt.Errorf("--url %s: a file holds one token, so a file grant names whole repositories, not owner/*", u)
		}
		repos = append(repos, policy.Route{Match: p.String(), Source: u})
		g.urls = append(g.urls, p.String())
		g.creds = append(g.creds, c)
	}
	g.routes = policy.Compile(repos)
	if g.routes.Len() != len(g.urls) {
		return nil, errors.New("a grant's repositories do not compile") // parseURL parsed each
	}
	ttl := time.Duration(spec.TTL) * time.Second
	switch {
	case spec.TTL == 0:
		ttl = DefaultTTL
	case spec.TTL < 0 || ttl > MaxTTL:
		return nil, fmt.Errorf("ttl %ds: want between 1s and %s", spec.TTL, MaxTTL)
	}
	g.expires = now.Add(ttl)
	if spec.MaxUses < 0 {
		return nil, fmt.Errorf("max uses %d: want 1 or more, or 0 for no cap", spec.MaxUses)
	}
	switch spec.Mode {
	case client.GrantSocket:
		g.uids = slices.Clone(spec.UIDs)
		if len(g.uids) == 0 {
			g.uids = []int{os.Getuid()}
		}
		for _, u := range g.uids {
			if u < 0 {
				return nil, fmt.Errorf("uid %d: want 0 or more", u)
			}
			if u == overflowUID {
				return nil, fmt.Errorf("uid %d is the overflow uid, which every uid unmapped in a user namespace reads as", u)
			}
		}
	case client.GrantFile:
		if spec.MaxUses != 0 {
			return nil, errors.New("--max-uses counts answers on a grant socket; a file can be read any number of times")
		}
		if len(spec.UIDs) != 0 {
			return nil, errors.New("--uid applies to socket grants; a token file is readable by your uid only (mode 0600)")
		}
	default:
		return nil, fmt.Errorf("grant mode %q: want socket or file", spec.Mode)
	}
	g.label = spec.Label
	if g.label == "" {
		g.label = defaultLabel(g.urls[0])
	}
	if !labelRE.MatchString(g.label) {
		return nil, fmt.Errorf("label %q: want up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", g.label)
	}
	g.path = spec.Path
	if g.path == "" {
		if m.cfg.Dir == "" {
			return nil, errors.New("grant needs a path: this agent has no runtime directory for grants")
		}
		g.ownDir = filepath.Join(m.cfg.Dir, g.label)
		g.path = filepath.Join(g.ownDir, map[string]string{client.GrantSocket: "keyfob.sock", client.GrantFile: "token"}[g.mode])
	} else if !filepath.IsAbs(g.path) {
		return nil, fmt.Errorf("grant path %q is not absolute", g.path)
	}
	return g, nil
}

// parseURL turns a --url into the credential git would send for it and the
// pattern that requests must match: host/owner/repo or host/owner/*.
func parseURL(u string) (client.Credential, policy.Pattern, error) {
	c, err := client.ParseRemote(u)
	if err != nil {
		return c, policy.Pattern{}, fmt.Errorf("--url %s: %w", u, err)
	}
	if c.Username != "" {
		return c, policy.Pattern{}, fmt.Errorf("--url %s: leave the username out; the token's route decides it", u)
	}
	c.Path = strings.TrimSuffix(c.Path, ".git")
	p, err := policy.ParsePattern(c.Host + "/" + c.Path)
	if err != nil || strings.Count(c.Path, "/") != 1 || strings.HasPrefix(c.Path, "*") {
		return c, policy.Pattern{}, fmt.Errorf("--url %s: a grant names repositories, host/owner/repo or host/owner/*", u)
	}
	return c, p, nil
}

// defaultLabel names a grant after its first repository, s as
// policy.Pattern's String writes it.
func defaultLabel(s string) string {
	base := s[strings.LastIndex(s, "/")+1:]
	if base == "*" {
		base = strings.Split(s, "/")[1]
	}
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, base)
	if len(base) > 40 {
		base = base[:40]
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return strings.TrimLeft(base, "._-") + "-" + hex.EncodeToString(b)
}

// routable checks that each granted repository gets a token now, so that a
// grant that could answer nothing fails when it is made.
func (m *Manager) routable(ctx context.Context, peer peercred.Cred, g *grant) *client.Response {
	g.bound = make([]string, len(g.creds))
	for i, c := range g.creds {
		// host/owner/* asks what the owner-wide routes choose: a route
		// for one repository does not match the literal "*".
		c := c
		r := m.cfg.Agent.Handle(ctx, peer, &client.Request{Op: client.OpWhich, Cred: &c})
		if r.Code != "" {
			return r
		}
		if r.Token == "" || r.Remembered {
			// A remembered credential never answers on a grant socket, so
			// it cannot be what a grant is made for.
			msg := "no token for " + g.urls[i]
			if r.Reason != "" {
				msg += ": " + r.Reason
			}
			return errResp(client.CodeNotFound, msg, "keyfob which "+g.urls[i]+" says why")
		}
		g.bound[i] = r.Token
	}
	return nil
}
