package agent

import (
	"context"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
)

// Resolve answers a get or token request exactly as the agent's own socket
// does (locked state, policy, allowlist, audit before the answer) and
// audits grant as the label of the grant the request came through. It is
// the one path by which a grant reaches a token, so a grant gets whatever
// the agent's routes would give (an App installation token included); it
// never widens them. A token handed out through a grant counts as use for
// auto-lock, as a get does (Answer).
//
// bound is the token (or App) the grant's routes chose when it was made;
// the answer is that token or nothing, whatever username or path the
// sandbox sends.
//
// ctx bounds what the answer needs (an App token's mint).
func (a *Agent) Resolve(ctx context.Context, peer peercred.Cred, req *client.Request, op, grant, bound string) *client.Response {
	if bound == "" {
		ev := audit.Event{Op: op, Grant: grant, Decision: audit.Denied, Reason: "the grant is bound to no token"}
		return a.Answer(peer, Outcome{Resp: errResp(client.CodeDenied, ev.Reason, ""), Event: ev})
	}
	return a.Answer(peer, a.resolve(ctx, req, op, grant, bound))
}
