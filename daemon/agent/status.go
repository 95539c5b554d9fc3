package agent

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// Token states, as status shows them.
const (
	StateOK          = "ok"
	StateSuspect     = "suspect"
	StateRotationDue = "rotation-due"
	StateExpiring    = "expiring"
	StateExpired     = "expired"
	StateInvalid     = "invalid"
	StateMissing     = "missing-permissions"
	StateUnverified  = "unverified"
)

// Mask shows a token as its known prefix, four stars and its last four
// characters (ghp_****wxyz): client.Mask.
func Mask(s client.Secret) string { return client.Mask(s) }

// state returns the token's state and why.
func (a *Agent) state(e *vault.Entry, now time.Time) (string, string) {
	m := e.Meta
	switch {
	case m.Validation == Invalid:
		return StateInvalid, m.ValidationMsg
	case m.ClientID != "":
		return a.userState(e, now)
	case !m.Expires.IsZero() && !now.Before(m.Expires):
		return StateExpired, "expired " + m.Expires.UTC().Format(time.DateTime) + " UTC"
	case !m.Expires.IsZero() && m.Expires.Sub(now) <= a.cfg.WarnWithin:
		return StateExpiring, fmt.Sprintf("expires %s UTC (in %s)", m.Expires.UTC().Format(time.DateTime), roundDays(m.Expires.Sub(now)))
	case m.Validation == MissingPerms:
		return StateMissing, m.ValidationMsg
	case e.Suspect.Load():
		return StateSuspect, "a remote rejected it (git erase); re-validating"
	}
	if hits := a.sso.of(e.Name, e.FP); len(hits) > 0 {
		return StateSSO, ssoReason(hits)
	}
	every := m.RotateEvery
	if every == 0 {
		every = a.cfg.RotateEvery
	}
	since := m.Created
	if !m.Rotated.IsZero() {
		since = m.Rotated
	}
	if !since.IsZero() && now.Sub(since) >= every {
		return StateRotationDue, fmt.Sprintf("last rotated %s ago (every %s)", roundDays(now.Sub(since)), roundDays(every))
	}
	if m.Validation == Unverified {
		return StateUnverified, m.ValidationMsg
	}
	if m.RejectedAt != "" {
		return StateOK, fmt.Sprintf("%s rejected it on %s: the token may lack access there; if it was revoked, run keyfob rotate %s", m.RejectedAt, m.LastRejected.Format(time.DateOnly), e.Name)
	}
	return StateOK, ""
}

func roundDays(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}

// warning returns a line for the helper's stderr when e is due, expiring or
// expired, at most once an hour per token.
func (a *Agent) warning(e *vault.Entry, now time.Time) string {
	st, why := a.state(e, now)
	if st == StateOK || st == StateSuspect || st == StateUnverified || st == StateSSO {
		return ""
	}
	last := e.LastWarn.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < time.Hour {
		return ""
	}
	if !e.LastWarn.CompareAndSwap(last, now.UnixNano()) {
		return ""
	}
	return fmt.Sprintf("token %s is %s (%s): run %s", e.Name, st, why, fixFor(e))
}

func (a *Agent) info(e *vault.Entry, now time.Time) client.TokenInfo {
	st, why := a.state(e, now)
	secret, _ := e.Secret()
	masked := Mask(secret)
	secret.Wipe()
	m := e.Meta
	ti := client.TokenInfo{
		Name: e.Name, Masked: masked, Fingerprint: e.FP,
		Hosts: m.Hosts, Username: m.Username, State: st, Reason: why,
		Created: m.Created, Rotated: m.Rotated, Expires: m.Expires,
		RotateEvery: int64(m.RotateEvery / time.Second),
		Login:       m.Login, Kind: m.Kind, Scopes: m.Scopes,
		Validated: m.Validated, Validation: m.Validation,
		RejectedAt: m.RejectedAt, LastRejected: m.LastRejected,
		SSO: ssoInfo(a.sso.of(e.Name, e.FP)),
	}
	if e.Refreshes() {
		ti.Kind, ti.Refreshes, ti.RefreshExpires = KindUserShown, true, m.RefreshExpires
	}
	ti.LastUsed = m.LastUsed
	if n := e.LastUsed.Load(); n != 0 {
		ti.LastUsed = time.Unix(0, n).UTC()
	}
	return ti
}

// statusOp answers ping and status. It is not audited.
func (a *Agent) statusOp(context.Context, peercred.Cred, *client.Request) Outcome {
	return Outcome{Resp: &client.Response{Status: a.status()}, Quiet: true}
}

// list answers keyfob list. It is not audited: it hands out no secret.
func (a *Agent) list(context.Context, peercred.Cred, *client.Request) Outcome {
	s := a.vault.Snapshot()
	if s.Locked() {
		return Outcome{Resp: a.lockedResp(s.LockErr), Quiet: true}
	}
	now := a.cfg.Now()
	resp := &client.Response{Status: a.statusOf(s)}
	for _, e := range s.Tokens {
		resp.Tokens = append(resp.Tokens, a.info(e, now))
	}
	for _, e := range s.Remembered {
		resp.Tokens = append(resp.Tokens, rememberedInfo(e, now))
	}
	slices.SortFunc(resp.Tokens, func(x, y client.TokenInfo) int { return cmpString(x.Name, y.Name) })
	resp.Apps = a.appInfos(s)
	return Outcome{Resp: resp, Quiet: true}
}

func (a *Agent) status() *client.Status { return a.statusOf(a.vault.Snapshot()) }

func (a *Agent) statusOf(s *vault.Snapshot) *client.Status {
	rs := a.routes.Load()
	st := &client.Status{
		Version: client.Version, PID: os.Getpid(), Backend: a.cfg.Backend,
		Locked: s.Locked(), LockError: s.LockErr, Tokens: len(s.Tokens), Apps: len(s.Apps),
		Socket: a.cfg.Socket, Config: a.cfg.ConfigPath, ConfigErr: rs.configErr,
		RouteErrs: a.routeProblems(s),
	}
	if a.cfg.Audit != nil {
		st.AuditLog = a.cfg.Audit.Path()
	}
	st.NeedsPass = st.Locked && a.cfg.Backend == store.File
	st.NewKeyring = st.NeedsPass && store.FileKeyringIsNew(a.cfg.Dir)
	st.KeychainLocked = st.Locked && a.keychainLocked(s.LockErr)
	if st.Locked {
		st.LockHint = a.lockHint(s.LockErr)
	}
	return st
}

// Summary says how the agent is, for logs and sd_notify STATUS=.
func (a *Agent) Summary() string {
	s := a.vault.Snapshot()
	if s.Locked() {
		return "locked"
	}
	return fmt.Sprintf("unlocked, %d tokens", len(s.Tokens))
}
