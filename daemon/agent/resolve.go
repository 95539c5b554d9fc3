package agent

import (
	"context"
	"fmt"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// get answers git's get and keyfob token: by name, or by URL through policy.
func (a *Agent) get(ctx context.Context, _ peercred.Cred, req *client.Request) Outcome {
	return a.resolve(ctx, req, req.Op, "", "")
}

// staleTries bounds how often resolve reads a new snapshot when the token
// it chose was rotated, removed or locked away while it was being read.
const staleTries = 3

// resolve is get for the agent's own socket and for grants (grants.go):
// grant is the label audited with the decision, "" for the agent's socket,
// and bound, when set, is the token (or App) the grant was made for. A
// bound request answers only with that token: the routes decide as for
// the agent's socket, but without the username git sent, and a decision
// for another token, or a username that is not the token's, answers
// nothing. It reads one snapshot and takes no lock.
func (a *Agent) resolve(ctx context.Context, req *client.Request, op, grant, bound string) Outcome {
	ev := audit.Event{Op: op, Grant: grant}
	if req.Cred != nil {
		ev.Protocol, ev.Host, ev.Path, ev.Username = req.Cred.Protocol, req.Cred.Host, req.Cred.Path, req.Cred.Username
	}
	for range staleTries {
		if o, ok := a.resolveIn(ctx, a.vault.Snapshot(), req, ev, bound); ok {
			return o
		}
	}
	why := "the token changed while it was read"
	ev.Decision, ev.Reason = audit.Failed, why
	return Outcome{Resp: errResp(client.CodeUnavailable, why, "try again"), Event: ev}
}

// resolveIn resolves req in s. It reports false when the secret it chose
// was wiped since s was read; the caller reads a new snapshot.
func (a *Agent) resolveIn(ctx context.Context, s *vault.Snapshot, req *client.Request, ev audit.Event, bound string) (Outcome, bool) {
	op := ev.Op
	refuse := func(decision, code, msg, hint string) (Outcome, bool) {
		ev.Decision, ev.Reason = decision, msg
		return Outcome{Resp: errResp(code, msg, hint), Event: ev}, true
	}
	if s.Locked() {
		ev.Decision, ev.Reason = audit.Locked, a.lockReason(s.LockErr)
		return Outcome{Resp: a.lockedAnswer(s.LockErr, ev.Grant != ""), Event: ev}, true
	}
	var e *vault.Entry
	var route, reason, pathWarn string
	var app *vault.AppEntry
	var matched policy.Route
	switch {
	case req.Name != "" && req.Cred == nil:
		e, app = s.Tokens[req.Name], s.Apps[req.Name]
		if e == nil && app == nil {
			return refuse(audit.NoMatch, client.CodeNotFound, "no token named "+req.Name, "keyfob list shows the names")
		}
		// An App that routes name answers through them only, with their
		// permissions and require_repo: by name it would mint a token
		// for the whole installation, with all of its permissions.
		if app != nil && e == nil {
			if rt, ok := a.currentRoutes().NamedBy(app.Name); ok {
				return refuse(audit.Denied, client.CodeDenied,
					fmt.Sprintf("app %s answers only through the routes that name it, such as %s", app.Name, rt.Describe()),
					"ask with the repository's URL: keyfob token https://HOST/OWNER/REPO")
			}
		}
		// By name as by URL: a token that cannot answer (expired,
		// invalid, suspect) answers nothing.
		if e != nil {
			pt := policy.Token{Name: e.Name, Unusable: vault.Unusable(e.Name, e.Meta), Expires: e.Meta.Expires}
			if why := pt.Why(a.cfg.Now()); why != "" {
				return refuse(audit.NoMatch, client.CodeNotFound, why, "keyfob rotate "+e.Name)
			}
			if e.Suspect.Load() {
				why := fmt.Sprintf("token %s was rejected by a remote and is being re-validated; keyfob status shows the result", e.Name)
				return refuse(audit.NoMatch, client.CodeNotFound, why, "if it was revoked or expired, run: keyfob rotate "+e.Name)
			}
		}
		reason = "by name"
	case req.Cred != nil:
		pr := a.credRequest(req.Cred)
		if bound != "" {
			// The routes decide without the username the sandbox sent;
			// an explicitly empty one is not the granted token's either.
			if req.Cred.EmptyUsername {
				return refuse(audit.Denied, client.CodeDenied, "git sent an empty username, which is not the granted token's", "")
			}
			pr.Username, pr.EmptyUsername = "", false
		}
		d := s.PolicyView().Decide(pr, a.currentRoutes())
		if d.Outcome == policy.Granted && bound != "" {
			if why := boundMismatch(d.Token, bound, req.Cred.Username, usernameOf(s, d.Token)); why != "" {
				return refuse(audit.Denied, client.CodeDenied, why, "")
			}
		}
		if d.Outcome == policy.Granted {
			// Suspect changes without a new policy view: a token a
			// remote rejected answers nothing until it is re-validated.
			if e := s.Tokens[d.Token]; e != nil && e.Suspect.Load() {
				why := fmt.Sprintf("token %s was rejected by a remote and is being re-validated; keyfob status shows the result", d.Token)
				return refuse(audit.NoMatch, client.CodeNotFound, why, "if it was revoked or expired, run: keyfob rotate "+d.Token)
			}
		}
		// Only where keyfob's tokens have nothing to say: no route
		// matched and no token's allowlist has the host, or the tokens
		// are refused only for plain http. A route that matched, or an
		// expired or ambiguous token, answers nothing instead.
		if bound == "" && ev.Grant == "" && (d.Outcome == policy.Denied && d.PlainHTTP || d.Outcome == policy.NoMatch && !d.Claimed) {
			// No token answers: a remembered credential may (remember.go).
			if o, ok := a.rememberedAnswer(s, req.Cred, ev); ok {
				return o, true
			}
		}
		switch d.Outcome {
		case policy.Denied:
			return refuse(audit.Denied, client.CodeDenied, d.Reason, "")
		case policy.NoMatch:
			hint := ""
			if d.Matched.Token != "" {
				hint = "keyfob which " + req.Cred.Host + pathSuffix(req.Cred.Path) + " explains it"
			}
			o, _ := refuse(audit.NoMatch, client.CodeNotFound, d.Reason, hint)
			if op == "get" && d.PathRoutes {
				o.After = func(r *client.Response) {
					r.Warnings = appendNonEmpty(r.Warnings, a.pathHints.note(req.Cred.Protocol, req.Cred.Host, a.cfg.Now()))
				}
			}
			return o, true
		}
		e, route, reason, matched = s.Tokens[d.Token], d.Route, d.Reason, d.Matched
		if e == nil {
			app = s.Apps[d.Token]
		}
		if op == "get" && d.PathRoutes {
			pathWarn = a.pathHints.note(req.Cred.Protocol, req.Cred.Host, a.cfg.Now())
		}
	default:
		return refuse(audit.BadRequest, client.CodeBadRequest, "token needs a name or a URL", "")
	}
	if e == nil {
		// A GitHub App's token is minted from a copy of its key, with
		// nothing held: a mint is a network call.
		key, ok := app.Key()
		if !ok {
			return Outcome{}, false
		}
		return a.appAnswer(ctx, req, ev, store.App{Name: app.Name, Key: key, Meta: app.Meta}, matched, route, reason, pathWarn), true
	}
	// A user token close to its end is refreshed first (refresh.go).
	refreshWarn, o, done := a.refreshForGet(e, ev)
	if done {
		return o, o.Resp != nil
	}
	// A copy: a lock or rotate wipes the held bytes, and must not reach
	// an answer that is still being written.
	secret, ok := e.Secret()
	if !ok {
		return Outcome{}, false
	}
	ev.Decision, ev.Reason, ev.Token, ev.FP = audit.Granted, reason, e.Name, e.FP
	resp := &client.Response{
		Username:    e.Meta.Username,
		Token:       e.Name,
		Fingerprint: e.FP,
		Route:       route,
		Reason:      reason,
		Secret:      secret,
	}
	if !e.Meta.Expires.IsZero() {
		resp.Expiry = e.Meta.Expires.Unix()
	}
	return Outcome{Resp: resp, Event: ev, After: func(r *client.Response) {
		now := a.cfg.Now()
		e.LastUsed.Store(now.UnixNano())
		if w := a.warning(e, now); w != "" {
			a.log.Warn(w)
			r.Warnings = append(r.Warnings, w)
		}
		r.Warnings = appendNonEmpty(r.Warnings, a.ssoWarning(e, req.Cred, now))
		r.Warnings = appendNonEmpty(r.Warnings, pathWarn)
		r.Warnings = appendNonEmpty(r.Warnings, refreshWarn)
	}}, true
}

// boundMismatch says why a grant made for bound must not answer with
// chosen for a request that sent username sent, "" when it may.
func boundMismatch(chosen, bound, sent, username string) string {
	if chosen != bound {
		return fmt.Sprintf("the grant was made for %s, and this repository now routes to %s", bound, chosen)
	}
	if sent != "" && sent != username {
		return fmt.Sprintf("git sent username %q, which is not the granted token's", sent)
	}
	return ""
}

// usernameOf returns the username a token or App answers with.
func usernameOf(s *vault.Snapshot, name string) string {
	if e := s.Tokens[name]; e != nil {
		return e.Meta.Username
	}
	return DefaultUsername
}

// which says which token a URL would get, and why, without handing it out.
// It is not audited: it hands out nothing.
func (a *Agent) which(_ context.Context, _ peercred.Cred, req *client.Request) Outcome {
	if req.Cred == nil {
		return Outcome{Resp: errResp(client.CodeBadRequest, "which needs a URL", ""), Quiet: true}
	}
	s := a.vault.Snapshot()
	if s.Locked() {
		return Outcome{Resp: a.lockedResp(s.LockErr), Quiet: true}
	}
	d := policy.Explain(a.credRequest(req.Cred), s.Policy(), a.currentRoutes())
	resp := &client.Response{Token: d.Token, Route: d.Route, Reason: d.Reason}
	if d.Outcome == policy.Denied || d.Outcome == policy.NoMatch && d.Matched.Token == "" {
		// As get decides (remember.go): where no token answers, a
		// remembered credential may.
		if name := a.rememberedWhich(s, req.Cred); name != "" {
			d.Outcome = policy.Granted
			resp.Token, resp.Remembered = name, true
			resp.Reason = "no token answers this remote; a credential git approved is remembered for it"
		}
	}
	for _, c := range d.Candidates {
		resp.Candidates = append(resp.Candidates, client.Candidate{Token: c.Token, Chosen: c.Chosen, Reason: c.Reason})
	}
	if d.Outcome == policy.Denied {
		resp.Code, resp.Error = client.CodeDenied, d.Reason
	}
	if e := s.Tokens[d.Token]; e != nil {
		if hits := a.sso.of(e.Name, e.FP); len(hits) > 0 {
			resp.Warnings = append(resp.Warnings, fmt.Sprintf("token %s is %s: %s", e.Name, StateSSO, ssoReason(hits)))
		}
	}
	return Outcome{Resp: resp, Quiet: true}
}
