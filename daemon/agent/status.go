package agent

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
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

// prefixes GitHub and GitLab put on their tokens; Mask keeps them.
var prefixes = []string{"github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-"}

// Mask shows a token as its known prefix, four stars and its last four
// characters (ghp_****wxyz). A short token shows as stars only.
func Mask(s client.Secret) string {
	v := s.Reveal()
	if len(v) < 12 {
		return "****"
	}
	prefix := ""
	for _, p := range prefixes {
		if strings.HasPrefix(v, p) {
			prefix = p
			break
		}
	}
	return prefix + "****" + v[len(v)-4:]
}

// state returns the token's state and why.
func (a *Agent) state(e *entry, now time.Time) (string, string) {
	m := e.tok.Meta
	switch {
	case m.Validation == Invalid:
		return StateInvalid, m.ValidationMsg
	case !m.Expires.IsZero() && !now.Before(m.Expires):
		return StateExpired, "expired " + m.Expires.UTC().Format(time.DateTime) + " UTC"
	case !m.Expires.IsZero() && m.Expires.Sub(now) <= a.cfg.WarnWithin:
		return StateExpiring, fmt.Sprintf("expires %s UTC (in %s)", m.Expires.UTC().Format(time.DateTime), roundDays(m.Expires.Sub(now)))
	case m.Validation == MissingPerms:
		return StateMissing, m.ValidationMsg
	case e.suspect.Load():
		return StateSuspect, "a remote rejected it (git erase); re-validating"
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
		return StateOK, fmt.Sprintf("%s rejected it on %s: the token may lack access there; if it was revoked, run keyfob rotate %s", m.RejectedAt, m.LastRejected.Format(time.DateOnly), e.tok.Name)
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
func (a *Agent) warning(e *entry, now time.Time) string {
	st, why := a.state(e, now)
	if st == StateOK || st == StateSuspect || st == StateUnverified {
		return ""
	}
	last := e.lastWarn.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < time.Hour {
		return ""
	}
	if !e.lastWarn.CompareAndSwap(last, now.UnixNano()) {
		return ""
	}
	return fmt.Sprintf("token %s is %s (%s): run keyfob rotate %s", e.tok.Name, st, why, e.tok.Name)
}

func (a *Agent) info(e *entry, now time.Time) client.TokenInfo {
	st, why := a.state(e, now)
	ti := client.TokenInfo{
		Name: e.tok.Name, Masked: Mask(e.tok.Secret), Fingerprint: e.tok.Secret.Fingerprint(),
		Hosts: e.tok.Meta.Hosts, Username: e.tok.Meta.Username, State: st, Reason: why,
		Created: e.tok.Meta.Created, Rotated: e.tok.Meta.Rotated, Expires: e.tok.Meta.Expires,
		RotateEvery: int64(e.tok.Meta.RotateEvery / time.Second),
		Login:       e.tok.Meta.Login, Kind: e.tok.Meta.Kind, Scopes: e.tok.Meta.Scopes,
		Validated: e.tok.Meta.Validated, Validation: e.tok.Meta.Validation,
		RejectedAt: e.tok.Meta.RejectedAt, LastRejected: e.tok.Meta.LastRejected,
	}
	ti.LastUsed = e.tok.Meta.LastUsed
	if n := e.lastUsed.Load(); n != 0 {
		ti.LastUsed = time.Unix(0, n).UTC()
	}
	return ti
}
