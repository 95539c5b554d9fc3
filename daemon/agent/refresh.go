package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// A user token from keyfob login lives 8 hours; its refresh token 6
// months, and each refresh answers a new pair and invalidates the old one
// at once. The agent refreshes a token when a quarter of its life is left,
// and at the latest refreshLead before it ends: in the background, and on
// demand when a get finds it due. Every refresh of one token shares one
// call to GitHub (refresher.do), and the new pair is written to the
// keychain before the new access token is handed out (docs/security.md).

// refreshLead caps how long before its expiry a user token is refreshed.
const refreshLead = 10 * time.Minute

// RefreshWarn is how long before its refresh token ends a user token
// warns: then only keyfob login gets a new one.
const RefreshWarn = 14 * 24 * time.Hour

// refreshTimeout bounds one refresh. Neither the request nor Shutdown
// cancels it: a refresh cut short after GitHub answered would lose the new
// pair.
const refreshTimeout = 20 * time.Second

// refreshIdle is the longest the background refresher sleeps.
const refreshIdle = time.Minute

// refresher runs the refreshes: one call per token at a time, and a
// back-off per token after a failure to reach GitHub.
type refresher struct {
	mu    sync.Mutex
	calls map[string]*refreshCall
	// retry is when a token that could not be refreshed is tried
	// again, and its last failure.
	retry map[string]refreshRetry
	kick  chan struct{}
	once  sync.Once
	// wg counts the background refresher, which runs until Shutdown
	// (Agent.Wait does not wait for it).
	wg sync.WaitGroup
}

type refreshCall struct {
	done chan struct{}
	err  error
}

type refreshRetry struct {
	at    time.Time
	tries int
	why   string
}

// leadOf is how long before its expiry e is due: a quarter of its life,
// at most refreshLead.
func leadOf(e *vault.Entry) time.Duration {
	m := e.Meta
	issued := m.Created
	if !m.Rotated.IsZero() {
		issued = m.Rotated
	}
	lead := m.Expires.Sub(issued) / 4
	if lead > refreshLead || lead <= 0 {
		lead = refreshLead
	}
	return lead
}

// dueAt returns when e should be refreshed.
func dueAt(e *vault.Entry) time.Time { return e.Meta.Expires.Add(-leadOf(e)) }

// backgroundAt is when the background refresher refreshes e: when it is
// due, but not while a git that just got the token may still be using it
// (GitHub invalidates the old access token at a refresh): it waits for a
// quarter of the lead without a hand-out, and at the latest until half
// the lead is left. A get that finds the token due refreshes it at once.
func backgroundAt(e *vault.Entry) time.Time {
	at, lead := dueAt(e), leadOf(e)
	if n := e.LastUsed.Load(); n != 0 {
		quiet := time.Unix(0, n).Add(lead / 4)
		if quiet.After(at) {
			at = quiet
		}
	}
	if latest := e.Meta.Expires.Add(-lead / 2); at.After(latest) {
		at = latest
	}
	return at
}

// refreshDue reports whether e is a user token due for a refresh at now.
func refreshDue(e *vault.Entry, now time.Time) bool {
	return e.Refreshes() && !e.Meta.Expires.IsZero() && e.Meta.Validation != Invalid && !now.Before(dueAt(e))
}

// startRefresher wakes the background refresher when the vault holds a
// user token that refreshes (at unlock); with none, no refresher runs.
func (a *Agent) startRefresher() {
	for _, e := range a.vault.Snapshot().Tokens {
		if e.Refreshes() {
			a.kickRefresher()
			return
		}
	}
}

// kickRefresher wakes the background refresher (a login changed what is
// due), starting it on first use.
func (a *Agent) kickRefresher() {
	r := &a.refresh
	r.once.Do(func() {
		r.kick = make(chan struct{}, 1)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			a.runRefresher()
		}()
	})
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// runRefresher refreshes each user token when it is due, sleeping until
// the next one is, until the agent stops.
func (a *Agent) runRefresher() {
	r := &a.refresh
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-a.life.Done():
			return
		case <-r.kick:
		case <-timer.C:
		}
		now := a.cfg.Now()
		next := now.Add(refreshIdle)
		for _, e := range a.vault.Snapshot().Tokens {
			if !e.Refreshes() || e.Meta.Expires.IsZero() || e.Meta.Validation == Invalid {
				continue
			}
			at := backgroundAt(e)
			if rt, ok := r.retryAt(e.Name); ok && rt.After(at) {
				at = rt
			}
			if !now.Before(at) {
				_ = a.refreshNow(e.Name, e.FP)
				next = now // look again at what the refresh made
				continue
			}
			if at.Before(next) {
				next = at
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(next.Sub(a.cfg.Now()), 50*time.Millisecond))
	}
}

func (r *refresher) retryAt(name string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rt, ok := r.retry[name]
	return rt.at, ok
}

// lastFailure says why the last refresh of name failed, "" if it did not.
func (r *refresher) lastFailure(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retry[name].why
}

// backoff is the wait after the n-th failure in a row to reach GitHub:
// 5 s, doubling, at most 5 minutes.
func backoff(n int) time.Duration {
	d := 5 * time.Second
	for range min(n-1, 10) {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// refreshNow refreshes token name, held with fingerprint fp, unless a
// refresh of it is in flight: then it waits for that one. It returns nil
// when the token is live again (or was already refreshed by another call).
func (a *Agent) refreshNow(name, fp string) error {
	r := &a.refresh
	r.mu.Lock()
	if c := r.calls[name]; c != nil {
		r.mu.Unlock()
		<-c.done
		return c.err
	}
	if r.calls == nil {
		r.calls, r.retry = map[string]*refreshCall{}, map[string]refreshRetry{}
	}
	c := &refreshCall{done: make(chan struct{})}
	r.calls[name] = c
	r.mu.Unlock()

	c.err = a.refreshOnce(name, fp)

	r.mu.Lock()
	delete(r.calls, name)
	switch {
	case c.err == nil:
		delete(r.retry, name)
	case errors.Is(c.err, github.ErrUnreachable):
		rt := r.retry[name]
		rt.tries++
		rt.at, rt.why = a.cfg.Now().Add(backoff(rt.tries)), c.err.Error()
		r.retry[name] = rt
	default:
		r.retry[name] = refreshRetry{at: a.cfg.Now().Add(24 * time.Hour), why: c.err.Error()}
	}
	r.mu.Unlock()
	close(c.done)
	return c.err
}

// errNotRefreshed means the token is not the one a refresh was asked for,
// or no longer refreshes; nothing was done.
var errNotRefreshed = errors.New("the token changed meanwhile")

// refreshOnce makes one refresh: GitHub answers a new pair, which is
// audited and written to the keychain (the old refresh token is dead
// already), then served.
func (a *Agent) refreshOnce(name, fp string) error {
	e := a.vault.Snapshot().Tokens[name]
	if e == nil || !e.Refreshes() {
		return errNotRefreshed
	}
	if e.FP != fp && !refreshDue(e, a.cfg.Now()) {
		return nil // refreshed by another call meanwhile
	}
	rt, ok := e.Refresh()
	if !ok {
		return errNotRefreshed
	}
	defer rt.Wipe()
	m := e.Meta
	web := m.OAuthWeb
	if len(m.Hosts) > 0 {
		if w, ok := a.githubHosts().Web(m.Hosts[0]); ok {
			web = w
		}
	}
	// Not cut short by Shutdown either: Shutdown waits a moment for it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(a.life), refreshTimeout)
	defer cancel()
	oa := github.NewOAuth(web)
	oa.Now = a.cfg.Now
	ut, err := oa.Refresh(ctx, m.ClientID, rt)
	if err != nil {
		if errors.Is(err, github.ErrUnreachable) {
			a.log.Warn("refreshing a user token failed; retrying", zap.String(LogToken, name), zap.Error(err))
			return fmt.Errorf("refresh %s: %w", name, err)
		}
		_, msg, _ := oauthRefusal(err, loginTarget{host: github.Host{Web: web}, clientID: m.ClientID})
		msg += " (" + clip(github.OAuthCode(err), 40) + ")"
		now := a.cfg.Now().UTC()
		m.Validation, m.ValidationMsg, m.Validated = Invalid, msg, now
		ev := audit.Event{Op: "refresh", Decision: audit.Failed, Reason: msg, Token: name, FP: e.FP, Time: now}
		if aerr := a.Record(self(), ev); aerr != nil {
			a.log.Error("audit write failed", zap.Error(aerr))
		}
		if _, nerr := a.vault.Note(e, m); nerr != nil {
			a.log.Error("keychain write", zap.String(LogToken, name), zap.Error(nerr))
		}
		a.log.Warn("token "+name+" is invalid ("+msg+"): run keyfob login again", zap.String(LogToken, name), zap.String(LogState, StateInvalid))
		return fmt.Errorf("refresh %s: %s", name, msg)
	}
	now := a.cfg.Now().UTC().Truncate(time.Second)
	m.Rotated, m.Expires = now, ut.Expires
	if !ut.RefreshExpires.IsZero() {
		m.RefreshExpires = ut.RefreshExpires
	}
	m.Validation, m.ValidationMsg, m.Validated = Valid, "refreshed", now
	m.RejectedAt, m.LastRejected = "", time.Time{}
	t := store.Token{Name: name, Secret: ut.Access, Refresh: ut.Refresh, Meta: m}
	newFP := t.Secret.Fingerprint()
	// The line comes first, as for every change. The pair is written
	// even when it cannot be: the old refresh token is dead, and a
	// dropped pair would end the login; a get is still refused while the
	// audit log cannot be written.
	ev := audit.Event{Op: "refresh", Decision: audit.Changed, Reason: "user token refreshed", Token: name, FP: newFP, Time: now, Expires: m.Expires}
	if aerr := a.Record(self(), ev); aerr != nil {
		a.log.Error("audit write failed; storing the refreshed token anyway", zap.Error(aerr))
	}
	// Put wipes what it is given when it fails: try again with copies.
	for try := 1; ; try++ {
		c := store.Token{Name: name, Secret: t.Secret.Clone(), Refresh: t.Refresh.Clone(), Meta: m}
		_, perr := a.vault.Put(e, c)
		if perr == nil {
			break
		}
		if errors.Is(perr, vault.ErrChanged) || errors.Is(perr, vault.ErrLocked) || try == 3 {
			ut.Wipe()
			a.log.Error("storing a refreshed user token failed; it is lost, and the login with it", zap.String(LogToken, name), zap.Error(perr))
			return fmt.Errorf("refresh %s: store the new token: %w", name, perr)
		}
		time.Sleep(time.Duration(try) * 200 * time.Millisecond)
	}
	ut.Wipe()
	a.log.Info("user token refreshed", zap.String(LogToken, name), zap.String(LogFP, newFP), zap.Time("expires", m.Expires))
	a.changed()
	return nil
}

// refreshForGet refreshes e, a token a get chose, when it is due. done
// means the get ends here: with o when o.Resp is set (refused: expired
// and not refreshed), else to read the snapshot again (refreshed). When
// it goes on with e, warn says why e was not refreshed.
func (a *Agent) refreshForGet(e *vault.Entry, ev audit.Event) (warn string, o Outcome, done bool) {
	now := a.cfg.Now()
	if !refreshDue(e, now) {
		return "", Outcome{}, false
	}
	expired := !now.Before(e.Meta.Expires)
	var err error
	if at, waiting := a.refresh.retryAt(e.Name); waiting && now.Before(at) {
		// Backing off after a failure: no new call per get.
		err = errors.New(a.refresh.lastFailure(e.Name))
	} else if err = a.refreshNow(e.Name, e.FP); err == nil || errors.Is(err, errNotRefreshed) {
		return "", Outcome{}, true
	}
	if !expired {
		return fmt.Sprintf("token %s could not be refreshed (%s); it is served until it expires at %s UTC",
			e.Name, clip(err.Error(), 160), e.Meta.Expires.UTC().Format(time.DateTime)), Outcome{}, false
	}
	why := fmt.Sprintf("token %s expired at %s UTC and could not be refreshed: %s", e.Name, e.Meta.Expires.UTC().Format(time.DateTime), clip(err.Error(), 160))
	hint := "keyfob retries when GitHub answers again; keyfob status shows the state"
	if cur := a.vault.Snapshot().Tokens[e.Name]; cur != nil && cur.Meta.Validation == Invalid {
		hint = "run keyfob login again"
	}
	ev.Decision, ev.Reason, ev.Token, ev.FP = audit.NoMatch, why, e.Name, e.FP
	return "", Outcome{Resp: errResp(client.CodeNotFound, why, hint), Event: ev}, true
}

// fixFor is the command that mends e: keyfob login for a user token,
// keyfob rotate for any other.
func fixFor(e *vault.Entry) string {
	if e.Meta.ClientID != "" {
		return "keyfob login again"
	}
	return "keyfob rotate " + e.Name
}

// userState is the state of a user token from keyfob login that is not
// invalid: its access token is refreshed, so only its refresh token's
// end, or refreshes that keep failing, need the user.
func (a *Agent) userState(e *vault.Entry, now time.Time) (string, string) {
	m := e.Meta
	failed := a.refresh.lastFailure(e.Name)
	until := ""
	if !m.RefreshExpires.IsZero() {
		until = "refresh token valid until " + m.RefreshExpires.UTC().Format(time.DateTime) + " UTC"
	}
	switch {
	case !m.RefreshExpires.IsZero() && !now.Before(m.RefreshExpires):
		return StateExpired, "its refresh token expired " + m.RefreshExpires.UTC().Format(time.DateTime) + " UTC"
	case !e.Refreshes():
		if !m.Expires.IsZero() && !now.Before(m.Expires) {
			return StateExpired, "expired " + m.Expires.UTC().Format(time.DateTime) + " UTC, and GitHub sent no refresh token"
		}
		return StateOK, "GitHub sent no refresh token, so it does not refresh"
	case !m.Expires.IsZero() && !now.Before(m.Expires) && failed != "":
		return StateExpired, "expired " + m.Expires.UTC().Format(time.DateTime) + " UTC; refreshing failed: " + clip(failed, 160)
	case !m.RefreshExpires.IsZero() && m.RefreshExpires.Sub(now) <= RefreshWarn:
		return StateExpiring, fmt.Sprintf("its refresh token expires %s UTC (in %s)", m.RefreshExpires.UTC().Format(time.DateTime), roundDays(m.RefreshExpires.Sub(now)))
	case e.Suspect.Load():
		return StateSuspect, "a remote rejected it (git erase); re-validating"
	case failed != "":
		return StateOK, "refreshing failed, retrying: " + clip(failed, 160)
	}
	return StateOK, joinNonEmpty("refreshes", until)
}
