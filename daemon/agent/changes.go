package agent

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// put handles add and rotate. The token is validated first, outside
// anything else: the API may be slow, and the old secret stays in force
// until the new one has passed. Then the change is audited, then written
// to the keychain, then served.
func (a *Agent) put(ctx context.Context, _ peercred.Cred, req *client.Request) Outcome {
	ev := audit.Event{Op: req.Op, Token: req.Name}
	fail := func(code, msg, hint string) Outcome {
		ev.Decision, ev.Reason = audit.Failed, msg
		return Outcome{Resp: errResp(code, msg, hint), Event: ev}
	}
	if err := store.ValidName(req.Name); err != nil {
		return fail(client.CodeBadRequest, err.Error(), "")
	}
	if req.Op == client.OpAdd && strings.HasPrefix(req.Name, vault.RememberedPrefix) {
		return fail(client.CodeBadRequest, "token names may not start with "+vault.RememberedPrefix+": remembered credentials are named so", "choose another name")
	}
	if req.Secret.IsZero() {
		return fail(client.CodeBadRequest, "empty token", "pass the token on stdin or at the prompt")
	}
	if req.Secret.HasControl() {
		return fail(client.CodeBadRequest, "the token holds a control character (CR, LF, NUL or another); nothing was stored", "pass the token alone, on one line")
	}
	meta := req.Meta
	if meta == nil {
		meta = &client.TokenMeta{}
	}
	if err := checkValue("username", meta.Username); err != nil {
		return fail(client.CodeBadRequest, err.Error(), "")
	}
	// What refuses the change anyway is checked before the token goes to
	// any API: a locked agent, a name taken or missing.
	hosts := meta.Hosts
	if s := a.vault.Snapshot(); s.Locked() {
		ev.Decision = audit.Locked
		return Outcome{Resp: a.lockedResp(s.LockErr), Event: ev}
	} else if old := s.Tokens[req.Name]; req.Op == client.OpRotate && old == nil {
		return fail(client.CodeNotFound, "no token named "+req.Name, "keyfob list shows the names")
	} else if req.Op == client.OpRotate {
		hosts = old.Meta.Hosts
		if old.Meta.ClientID != "" {
			return fail(client.CodeBadRequest, "token "+req.Name+" is a user token from keyfob login, and the agent refreshes it", "to replace it, run keyfob login --name "+req.Name+" again")
		}
	} else if old != nil {
		return fail(client.CodeBadRequest, "token "+req.Name+" exists", "use keyfob rotate "+req.Name+" to replace its secret")
	}
	for _, h := range hosts {
		if err := checkHost(h); err != nil {
			return fail(client.CodeBadRequest, err.Error(), "")
		}
	}
	vd, err := a.validate(ctx, req.Name, hosts, req.Secret, meta.NoVerify)
	var rf *refusal
	switch {
	case err != nil && ctx.Err() != nil:
		return fail(client.CodeUnavailable, "the agent is stopping, so the token could not be checked; nothing was stored", "try again once it runs")
	case errors.As(err, &rf):
		return fail(client.CodeDenied, rf.msg+"; nothing was stored", rf.hint)
	case err != nil:
		return fail(client.CodeDenied, "GitHub refused the token: "+err.Error()+"; nothing was stored", "check the token, or pass --no-verify to store it unchecked")
	}

	s := a.vault.Snapshot()
	if s.Locked() {
		ev.Decision = audit.Locked
		return Outcome{Resp: a.lockedResp(s.LockErr), Event: ev}
	}
	now := a.cfg.Now().UTC().Truncate(time.Second)
	old := s.Tokens[req.Name]
	var t store.Token
	switch {
	case req.Op == client.OpAdd && old != nil:
		return fail(client.CodeBadRequest, "token "+req.Name+" exists", "use keyfob rotate "+req.Name+" to replace its secret")
	case s.Apps[req.Name] != nil:
		return fail(client.CodeBadRequest, "an app is named "+req.Name, "tokens and apps share one set of names; choose another")
	case req.Op == client.OpRotate && old == nil:
		return fail(client.CodeNotFound, "no token named "+req.Name, "keyfob list shows the names")
	case req.Op == client.OpAdd:
		if len(meta.Hosts) == 0 {
			return fail(client.CodeBadRequest, "a token needs at least one --host", "")
		}
		user := meta.Username
		if user == "" {
			user = DefaultUsername
		}
		t = store.Token{Name: req.Name, Meta: store.Meta{Hosts: meta.Hosts, Username: user, Created: now,
			Expires: meta.Expires, RotateEvery: time.Duration(meta.RotateEvery) * time.Second}}
	default:
		t = store.Token{Name: old.Name, Meta: old.Meta}
		m := &t.Meta
		m.Rotated, m.Expires = now, meta.Expires
		m.Login, m.Kind, m.Scopes, m.Validated, m.Validation, m.ValidationMsg = "", "", nil, time.Time{}, "", ""
		m.RejectedAt = ""
	}
	vd.apply(&t.Meta, now)
	t.Secret = req.Secret.Clone()
	ev.Decision, ev.FP, ev.Reason = audit.Changed, t.Secret.Fingerprint(), vd.msg
	resp := &client.Response{Token: t.Name, Fingerprint: ev.FP}
	resp.Warnings = appendNonEmpty(resp.Warnings, vd.warning)
	var e *vault.Entry
	return Outcome{Resp: resp, Event: ev,
		Change: &Change{
			Commit: func() (err error) {
				e, err = a.vault.Put(old, t)
				return err
			},
			Undo:   t.Secret.Wipe,
			Suffix: "; nothing was stored",
		},
		After: func(r *client.Response) {
			a.sso.note(e.Name, e.FP, vd.sso)
			r.Tokens = []client.TokenInfo{a.info(e, a.cfg.Now())}
			a.changed()
		}}
}

// remove handles keyfob remove NAME, for a token or an app.
func (a *Agent) remove(ctx context.Context, _ peercred.Cred, req *client.Request) Outcome {
	ev := audit.Event{Op: "remove", Token: req.Name}
	s := a.vault.Snapshot()
	if s.Locked() {
		ev.Decision = audit.Locked
		return Outcome{Resp: a.lockedResp(s.LockErr), Event: ev}
	}
	if ap := s.Apps[req.Name]; ap != nil {
		return a.removeApp(ctx, ev, ap)
	}
	if r := s.RememberedByName(req.Name); r != nil {
		ev.Decision, ev.FP, ev.Reason = audit.Changed, r.FP, "remembered credential removed"
		return Outcome{Resp: &client.Response{Token: req.Name}, Event: ev,
			Change: &Change{
				Commit: func() error { return a.vault.RemoveRemembered(r) },
				Failed: a.keychainFailed("keychain remove", req.Name, "keychain remove failed; nothing changed", "keychain error"),
				Suffix: "; nothing was removed",
			},
			After: func(*client.Response) { a.changed() }}
	}
	e := s.Tokens[req.Name]
	if e == nil {
		ev.Decision, ev.Reason = audit.Failed, "no such token"
		return Outcome{Resp: errResp(client.CodeNotFound, "no token named "+req.Name, "keyfob list shows the names"), Event: ev}
	}
	ev.Decision, ev.FP = audit.Changed, e.FP
	return Outcome{Resp: &client.Response{Token: req.Name}, Event: ev,
		Change: &Change{
			Commit: func() error { return a.vault.Remove(e) },
			Failed: a.keychainFailed("keychain remove", req.Name, "keychain remove failed; nothing changed", "keychain error"),
			Suffix: "; nothing was removed",
		},
		After: func(*client.Response) { a.changed() }}
}
