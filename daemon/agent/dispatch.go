package agent

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/vault"
)

// Outcome is what a handler decided: the answer, the audit event that
// records it and, for a change, the change to make. Handlers build
// Outcomes; only Answer writes the event and sends the answer, so every
// decision is audited before its answer leaves and every change before it
// is made.
type Outcome struct {
	Resp  *client.Response
	Event audit.Event
	// Quiet marks a read-only answer that is not audited (ping, status,
	// list, which).
	Quiet bool
	// Change, if set, is made after Event is written, and only then.
	Change *Change
	// After, if set, runs once Resp stands (audited, and the change
	// made); it records use and adds what only a delivered answer says.
	After func(resp *client.Response)
}

// Change is a change to keyfob's state that an Outcome makes once its
// event is written.
type Change struct {
	// Commit makes the change. An error means nothing changed.
	Commit func() error
	// Failed turns Commit's error into the answer and the reason of a
	// second, failed audit line; nil means a keychain write failure.
	Failed func(err error) (resp *client.Response, reason string)
	// Undo runs when the change is not made because the event could not
	// be written (it wipes a secret staged for it).
	Undo func()
	// Suffix ends the error of an answer refused for want of an audit
	// line ("; nothing was stored").
	Suffix string
	// Force makes the change even when the event cannot be written: for
	// changes that only take access away (lock), where keeping secrets
	// because a disk is full would be the unsafe direction.
	Force bool
}

type handler func(a *Agent, ctx context.Context, peer peercred.Cred, req *client.Request) Outcome

// handlers are the ops of the agent's own socket. Grants add theirs
// (daemon/grant); anything else is bad_request.
var handlers = map[string]handler{
	client.OpPing:   (*Agent).statusOp,
	client.OpStatus: (*Agent).statusOp,
	client.OpGet:    (*Agent).get,
	client.OpToken:  (*Agent).get,
	client.OpWhich:  (*Agent).which,
	client.OpStore:  (*Agent).gitReport,
	client.OpErase:  (*Agent).gitReport,
	client.OpUnlock: (*Agent).unlock,
	client.OpLock:   (*Agent).lock,
	client.OpAdd:    (*Agent).put,
	client.OpRotate: (*Agent).put,
	client.OpRemove: (*Agent).remove,
	client.OpAppAdd: (*Agent).appAdd,
	client.OpList:   (*Agent).list,

	client.OpLoginStart: (*Agent).loginStart,
	client.OpLoginPoll:  (*Agent).loginPoll,
}

// Handle implements server.Handler.
func (a *Agent) Handle(ctx context.Context, peer peercred.Cred, req *client.Request) *client.Response {
	h := handlers[req.Op]
	if h == nil {
		return a.Malformed(peer, fmt.Errorf("unknown op %q", clip(req.Op, 32)))
	}
	return a.Answer(peer, h(a, ctx, peer, req))
}

// Answer writes o's event, makes o's change, and returns o's answer. When
// the event cannot be written it answers unavailable, hands out nothing and
// changes nothing (a forced change is still made); when the change fails,
// a second line says so and the answer says why. Secrets in an answer that
// is not sent are wiped.
func (a *Agent) Answer(peer peercred.Cred, o Outcome) *client.Response {
	resp, ch := o.Resp, o.Change
	if o.Event.Time.IsZero() {
		o.Event.Time = a.cfg.Now()
	}
	if !o.Quiet {
		if err := a.Record(peer, o.Event); err != nil {
			a.log.Error("audit write failed; refusing", zap.Error(err))
			resp.Secret.Wipe()
			resp.Refresh.Wipe()
			r := a.auditUnavailable()
			r.MintFailed = resp.MintFailed
			if ch != nil {
				r.Error += ch.Suffix
				switch {
				case ch.Force:
					_ = ch.Commit()
				case ch.Undo != nil:
					ch.Undo()
				}
			}
			return r
		}
	}
	if ch != nil {
		if err := ch.Commit(); err != nil && !ch.Force {
			resp.Secret.Wipe()
			resp.Refresh.Wipe()
			failed := ch.Failed
			if failed == nil {
				failed = a.keychainFailed("keychain write", o.Event.Token, "keychain write failed; nothing changed", "")
			}
			r, reason := failed(err)
			ev := o.Event
			ev.Decision, ev.Reason = audit.Failed, reason
			if err := a.Record(peer, ev); err != nil {
				a.log.Error("audit write failed", zap.Error(err))
				return a.auditUnavailable()
			}
			return r
		}
	}
	// Only use counts for auto-lock: a secret handed out or a change
	// made. Reads that poll (status, list, which, ping, doctor, grants)
	// never keep the agent unlocked.
	if ch != nil || !resp.Secret.IsZero() {
		a.active()
	}
	if o.After != nil {
		o.After(resp)
	}
	return resp
}

// Record writes ev as peer's. It is the only writer of audit lines.
func (a *Agent) Record(peer peercred.Cred, ev audit.Event) error {
	ev.UID, ev.PID, ev.Exe = peer.UID, peer.PID, peer.Exe
	return a.cfg.Audit.Write(ev)
}

func (a *Agent) auditUnavailable() *client.Response {
	return errResp(client.CodeUnavailable, "audit log cannot be written, so keyfob hands out nothing",
		"free space or fix permissions for "+a.cfg.Audit.Path())
}

// keychainFailed answers a change to name whose keychain write failed:
// what names the write in the log, msg is the answer's error and reason
// the failed line's ("" for msg).
func (a *Agent) keychainFailed(what, name, msg, reason string) func(error) (*client.Response, string) {
	if reason == "" {
		reason = msg
	}
	return func(err error) (*client.Response, string) {
		switch {
		case errors.Is(err, vault.ErrLocked):
			return a.lockedResp(a.vault.Snapshot().LockErr), "locked"
		case errors.Is(err, vault.ErrChanged):
			why := name + " changed meanwhile; nothing changed"
			return errResp(client.CodeUnavailable, why, "try again"), why
		}
		a.log.Error(what, zap.String("token", name), zap.Error(err))
		return errResp(client.CodeUnavailable, msg, "keyfob doctor checks the backend"), reason
	}
}

// Refused implements server.Handler.
func (a *Agent) Refused(peer peercred.Cred, reason string) {
	if err := a.Record(peer, audit.Event{Op: "connect", Decision: audit.DeniedPeer, Reason: reason}); err != nil {
		a.log.Error("audit", zap.Error(err))
	}
	a.log.Warn("refused peer", zap.Int("uid", peer.UID), zap.Int("pid", peer.PID), zap.String("exe", peer.Exe))
}

// Malformed implements server.Handler. The answer hands out nothing and
// changes nothing, so it is sent even when its line cannot be written.
func (a *Agent) Malformed(peer peercred.Cred, err error) *client.Response {
	if aerr := a.Record(peer, audit.Event{Op: "decode", Decision: audit.BadRequest, Reason: err.Error()}); aerr != nil {
		a.log.Error("audit", zap.Error(aerr))
	}
	return &client.Response{Code: client.CodeBadRequest, Error: BadRequestText(err)}
}
