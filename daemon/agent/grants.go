package agent

import (
	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/peercred"
)

// Resolve answers a get or token request exactly as the agent's own socket
// does (locked state, policy, allowlist, audit before the answer) and
// audits grant as the label of the grant the request came through. It is
// the one path by which a grant reaches a token, so a grant gets whatever
// the agent's routes would give (an App installation token included); it
// never widens them. A use through a grant counts as activity for
// auto-lock, as a get does.
func (a *Agent) Resolve(peer peercred.Cred, req *client.Request, op, grant string) *client.Response {
	a.active()
	return a.resolve(peer, req, op, grant)
}
