package grant

import (
	"context"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
)

// gate is the server.Handler of one grant socket. It answers git's get for
// the grant's repositories, through the agent's own path, and refuses
// everything else; every decision is audited with the grant's label.
type gate struct {
	m *Manager
	g *grant
}

// Handle implements server.Handler.
func (h *gate) Handle(ctx context.Context, peer peercred.Cred, req *client.Request) *client.Response {
	switch req.Op {
	case client.OpPing, client.OpStatus:
		// The grant's own state, and nothing of the agent's.
		st := h.m.cfg.Agent.Handle(ctx, peer, &client.Request{Op: client.OpPing})
		info := h.g.info()
		info.Path, info.UIDs = "", nil
		locked := st.Status == nil || st.Status.Locked
		return &client.Response{Status: &client.Status{Version: client.Version, Locked: locked}, Grants: []client.GrantInfo{info}}
	case client.OpGet:
		return h.get(ctx, peer, req)
	case client.OpStore, client.OpErase:
		// git reports whether the token worked. The agent's own socket
		// acts on that (erase marks a token suspect); a sandbox must not
		// change the agent's state, so the report is noted and dropped.
		ev := audit.Event{Op: req.Op, Decision: audit.Stored, Reason: "from a grant socket: noted, not acted on", Grant: h.g.label}
		if req.Op == client.OpErase {
			ev.Decision = audit.Erased
		}
		setCred(&ev, req.Cred)
		return h.m.answer(peer, agent.Outcome{Resp: &client.Response{}, Event: ev})
	}
	return h.refuse(peer, req, client.CodeDenied,
		fmt.Sprintf("grant socket %s answers only git's get for %s", h.g.label, strings.Join(h.g.urls, " ")), "")
}

// Refused implements server.Handler: a peer whose uid the grant does not
// allow.
func (h *gate) Refused(peer peercred.Cred, reason string) {
	if reason == "peer uid is not the agent's uid" {
		reason = "peer uid is not one the grant allows"
	}
	h.m.record(peer, audit.Event{Op: "connect", Decision: audit.DeniedPeer, Reason: reason, Grant: h.g.label})
	h.m.log.Warn("grant socket refused peer", zap.String("grant", h.g.label), zap.Int("uid", peer.UID), zap.Int("pid", peer.PID))
}

// Malformed implements server.Handler.
func (h *gate) Malformed(peer peercred.Cred, err error) *client.Response {
	h.m.record(peer, audit.Event{Op: "decode", Decision: audit.BadRequest, Reason: err.Error(), Grant: h.g.label})
	return errResp(client.CodeBadRequest, agent.BadRequestText(err), "")
}

func setCred(ev *audit.Event, c *client.Credential) {
	if c != nil {
		ev.Protocol, ev.Host, ev.Path, ev.Username = c.Protocol, c.Host, c.Path, c.Username
	}
}

func (h *gate) refuse(peer peercred.Cred, req *client.Request, code, msg, hint string) *client.Response {
	ev := audit.Event{Op: req.Op, Decision: audit.Denied, Reason: msg, Grant: h.g.label, Token: req.Name}
	if code == client.CodeBadRequest {
		ev.Decision = audit.BadRequest
	}
	setCred(&ev, req.Cred)
	return h.m.answer(peer, agent.Outcome{Resp: errResp(code, msg, hint), Event: ev})
}

// covers returns the index of the most specific of the grant's
// repositories that names the one git asks about, or -1.
func (g *grant) covers(c *client.Credential) int {
	_, i := g.routes.Lookup(c.Host, c.Path)
	return i
}

// reserve takes one use, or says why the grant cannot answer. The use is
// held until settle, so concurrent requests never get more than MaxUses
// tokens between them.
func (g *grant) reserve(m *Manager) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.ended:
		return "grant " + g.label + " has ended"
	case !m.now().Before(g.expires):
		return "grant " + g.label + " has expired"
	case g.maxUses > 0 && g.uses+g.inflight >= g.maxUses:
		return fmt.Sprintf("grant %s is used up (%d of %d)", g.label, g.uses, g.maxUses)
	}
	g.inflight++
	return ""
}

// settle ends a use taken by reserve, and reports whether it was the last.
func (g *grant) settle(handedOut bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inflight--
	if handedOut {
		g.uses++
	}
	return g.maxUses > 0 && g.uses >= g.maxUses
}

func (h *gate) get(ctx context.Context, peer peercred.Cred, req *client.Request) *client.Response {
	g := h.g
	if req.Cred == nil || req.Cred.Host == "" {
		return h.refuse(peer, req, client.CodeBadRequest, "get needs a credential", "")
	}
	if _, err := policy.CanonicalPath(req.Cred.Path); err != nil {
		return h.refuse(peer, req, client.CodeDenied, fmt.Sprintf("path %q: %v", req.Cred.Path, err), "")
	}
	i := g.covers(req.Cred)
	if i < 0 {
		if req.Cred.Path == "" {
			return h.refuse(peer, req, client.CodeDenied, "git sent no repository path, and grant "+g.label+" covers repositories only",
				"set git config credential.useHttpPath true inside the sandbox")
		}
		return h.refuse(peer, req, client.CodeDenied,
			fmt.Sprintf("%s/%s is not in grant %s (%s)", req.Cred.Host, strings.TrimSuffix(req.Cred.Path, ".git"), g.label, strings.Join(g.urls, " ")), "")
	}
	if why := g.reserve(h.m); why != "" {
		return h.refuse(peer, req, client.CodeDenied, why, "")
	}
	cred := *req.Cred
	r := h.m.cfg.Agent.Resolve(ctx, peer, &client.Request{Op: client.OpGet, Cred: &cred}, client.OpGet, g.label, g.bound[i])
	// A failed mint counts as a use: a sandbox retrying a repository the
	// app cannot reach uses its grant up rather than the API.
	if h.g.settle(r.Code == "" && !r.Secret.IsZero() || r.MintFailed) {
		h.m.end(g, EndUsedUp, h.m.self)
	}
	if r.Code != "" {
		return errResp(r.Code, r.Error, r.Hint)
	}
	// Only what git needs: not the token's name, route or warnings, which
	// are the user's business, not the sandbox's.
	return &client.Response{Username: r.Username, Secret: r.Secret, Expiry: r.Expiry, Fingerprint: r.Fingerprint}
}
