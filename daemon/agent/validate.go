package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/store"
)

// Validation results kept in a token's metadata.
const (
	Valid        = "valid"
	Unverified   = "unverified"
	Invalid      = "invalid"
	MissingPerms = "missing-permissions"
)

// apiBase returns the GitHub API base for the first GitHub host in hosts.
func (a *Agent) apiBase(hosts []string) (string, bool) {
	for _, h := range hosts {
		if base, ok := github.APIBase(h, a.cfg.GitHubAPI, a.cfg.Enterprise); ok {
			return base, true
		}
	}
	return "", false
}

// verdict is what validation found, ready to be applied to metadata.
type verdict struct {
	v       github.Validation
	result  string
	msg     string
	warning string
}

// validate checks secret against the API of the first GitHub host in
// hosts. A token for other hosts, or with noVerify, is not checked. An
// invalid token is an error; an unreachable API is a warning.
func (a *Agent) validate(hosts []string, secret client.Secret, noVerify bool) (verdict, error) {
	base, ok := a.apiBase(hosts)
	if !ok {
		return verdict{}, nil
	}
	if noVerify {
		return verdict{result: Unverified, msg: "not checked (--no-verify)"}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := github.New(base).Validate(ctx, secret)
	switch {
	case err == nil:
		return verdict{v: v, result: Valid, msg: "GET /user as " + v.Login}, nil
	case errors.Is(err, github.ErrUnreachable):
		a.log.Warn("token not validated", zap.String("api", base), zap.Error(err))
		return verdict{result: Unverified, msg: "GitHub API unreachable",
			warning: "could not reach the GitHub API at " + base + ", so the token is stored unverified"}, nil
	default:
		return verdict{}, err
	}
}

// apply records a verdict in m.
func (vd verdict) apply(m *store.Meta, now time.Time) {
	if vd.result == "" {
		return
	}
	m.Validation, m.ValidationMsg, m.Validated = vd.result, vd.msg, now
	if vd.result != Valid {
		return
	}
	m.Login, m.Kind, m.Scopes = vd.v.Login, vd.v.Kind, vd.v.Scopes
	if !vd.v.Expires.IsZero() {
		m.Expires = vd.v.Expires
	}
}

// unusable says why a token must not be offered, "" when it may.
func unusable(e *entry) string {
	if e.tok.Meta.Validation == Invalid {
		return fmt.Sprintf("token %s is invalid (%s): run keyfob rotate %s", e.tok.Name, e.tok.Meta.ValidationMsg, e.tok.Name)
	}
	return ""
}

// revalidationAPI returns the API to re-check a token with hosts after a
// rejection at host: host's own when it is a GitHub host in the
// allowlist, else the first GitHub host of the allowlist. Never the API of
// a host outside the allowlist, whatever git named.
func (a *Agent) revalidationAPI(hosts []string, host string) (string, bool) {
	if policy.HostAllowed(hosts, host) {
		if base, ok := github.APIBase(host, a.cfg.GitHubAPI, a.cfg.Enterprise); ok {
			return base, true
		}
	}
	return a.apiBase(hosts)
}

// startRevalidation re-validates e in the background after a rejection at
// host/path, unless a re-validation of it is already in flight. Only the
// API of host is asked, and host is one of e's own (gitReport checked it
// against the allowlist). A host with no API keyfob knows cannot be asked:
// the token stops being suspect at once, and the rejection stays on record.
func (a *Agent) startRevalidation(peer peercred.Cred, e *entry, host, path string) {
	if !policy.HostAllowed(e.tok.Meta.Hosts, host) {
		return
	}
	if !e.revalidating.CompareAndSwap(false, true) {
		return
	}
	a.bg.Add(1)
	go func() {
		defer e.revalidating.Store(false)
		a.revalidate(peer, e.tok.Name, e.tok.Secret.Fingerprint(), host, path)
	}()
}

// revalidate runs after git reported a rejection (erase). It asks the API
// of host (one of the token's own) whether the token is still good and, for
// a repository, whether it may read it; the answer is audited, then
// recorded in the keychain item.
func (a *Agent) revalidate(peer peercred.Cred, name, fp, host, path string) {
	defer a.bg.Done()
	a.mu.RLock()
	e := a.tokens[name]
	var secret client.Secret
	var hosts []string
	if e != nil && e.tok.Secret.Fingerprint() == fp {
		secret, hosts = e.tok.Secret.Clone(), e.tok.Meta.Hosts
	}
	a.mu.RUnlock()
	if secret.IsZero() {
		return
	}
	defer secret.Wipe()
	base, ok := a.revalidationAPI(hosts, host)
	if !ok {
		a.unsuspect(peer, name, fp, host, path, "no API to re-check it; it is served again, and the rejection stays on record")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	gh := github.New(base)
	result, msg := Valid, ""
	v, err := gh.Validate(ctx, secret)
	switch {
	case github.IsInvalid(err):
		result, msg = Invalid, err.Error()
	case err != nil:
		a.log.Warn("re-validation failed", zap.String("token", name), zap.Error(err))
		a.unsuspect(peer, name, fp, host, path, "re-validation could not reach "+base+"; it is served again, and the rejection stays on record")
		return
	default:
		msg = "GET /user as " + v.Login
		t := policy.ParseTarget(host, path)
		if t.Owner != "" && t.Repo != "" {
			var ae *github.APIError
			if rerr := gh.RepoAccess(ctx, secret, t.Owner, t.Repo); errors.As(rerr, &ae) {
				switch {
				case ae.Status == 403 && ae.Accepted != "":
					result, msg = MissingPerms, fmt.Sprintf("%s/%s needs %s", t.Owner, t.Repo, ae.Accepted)
				default:
					msg = fmt.Sprintf("valid, but %s/%s answered %d: the token may lack access to it", t.Owner, t.Repo, ae.Status)
				}
			}
		}
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	e = a.tokens[name]
	if e == nil || e.tok.Secret.Fingerprint() != fp || a.st == nil {
		return // rotated, removed or locked meanwhile
	}
	now := a.cfg.Now().UTC()
	t := e.tok
	t.Meta.Validation, t.Meta.ValidationMsg, t.Meta.Validated = result, msg, now
	if result == Valid && v.Login != "" {
		t.Meta.Login = v.Login
	}
	t.Meta.LastRejected, t.Meta.RejectedAt = now, host+pathSuffix(path)
	// Audited before the keychain and memory change; without the line,
	// the token stays as it was (suspect, so not served).
	ev := audit.Event{Op: "validate", Decision: result, Reason: msg, Protocol: "https", Host: host, Path: path, Token: name, FP: fp, Time: now}
	setPeer(&ev, peer)
	if err := a.cfg.Audit.Write(ev); err != nil {
		a.log.Error("audit write failed; re-validation result not recorded", zap.String("token", name), zap.Error(err))
		return
	}
	if err := a.st.Put(t); err != nil {
		a.log.Error("keychain write", zap.String("token", name), zap.Error(err))
	}
	e.tok.Meta = t.Meta
	a.tokensChanged()
	if result != Invalid {
		e.suspect.Store(false)
	}
	a.log.Warn("token re-validated after a rejection", zap.String("token", name), zap.String("result", result), zap.String("detail", msg))
}

// unsuspect ends a token's suspect mark when its rejection cannot be
// checked, so that one failure at a host keyfob cannot ask does not stop
// the token for good. It is audited first.
func (a *Agent) unsuspect(peer peercred.Cred, name, fp, host, path, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.tokens[name]
	if e == nil || e.tok.Secret.Fingerprint() != fp || !e.suspect.Load() || a.st == nil {
		return
	}
	now := a.cfg.Now().UTC()
	ev := audit.Event{Op: "validate", Decision: Unverified, Reason: why, Protocol: "https", Host: host, Path: path, Token: name, FP: fp, Time: now}
	setPeer(&ev, peer)
	if err := a.cfg.Audit.Write(ev); err != nil {
		a.log.Error("audit write failed; token stays suspect", zap.String("token", name), zap.Error(err))
		return
	}
	a.recordRejection(e, host, path)
	e.suspect.Store(false)
}

// Wait waits for background work (re-validations) to finish.
func (a *Agent) Wait() { a.bg.Wait() }

// Check logs a warning for every token that is due, expiring, expired,
// invalid or missing permissions, sends each as a desktop notification when
// Config.Notify is set, and returns the warnings.
func (a *Agent) Check() []string {
	a.mu.RLock()
	now := a.cfg.Now()
	var out []string
	for _, e := range a.tokens {
		st, why := a.state(e, now)
		switch st {
		case StateOK, StateSuspect, StateUnverified:
			continue
		}
		out = append(out, fmt.Sprintf("token %s is %s (%s): run keyfob rotate %s", e.tok.Name, st, why, e.tok.Name))
	}
	a.mu.RUnlock()
	for _, w := range out {
		a.log.Warn(w)
		if a.cfg.Notify != nil {
			if err := a.cfg.Notify("keyfob: a token needs attention", w); err != nil {
				a.log.Debug("desktop notification", zap.Error(err))
			}
		}
	}
	return out
}

// RunChecks runs Check every interval until ctx ends.
func (a *Agent) RunChecks(ctx context.Context, every time.Duration) {
	tick(ctx, every, func() { a.Check() })
}

// tick calls f every interval until ctx ends.
func tick(ctx context.Context, every time.Duration, f func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

func joinScopes(s []string) string {
	if s == nil {
		return ""
	}
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

// saveLastUsed writes each token's last use into its keychain item. It runs
// at lock and shutdown, not on every hand-out: the keychain is touched only
// to add, rotate or remove, and at lock.
func (a *Agent) saveLastUsed(st *store.Store, m map[string]*entry) {
	if st == nil {
		return
	}
	for _, e := range m {
		n := e.lastUsed.Load()
		if n == 0 || !time.Unix(0, n).After(e.tok.Meta.LastUsed) {
			continue
		}
		t := e.tok
		t.Meta.LastUsed = time.Unix(0, n).UTC().Truncate(time.Second)
		if err := st.Put(t); err != nil {
			a.log.Warn("record last use", zap.String("token", t.Name), zap.Error(err))
		}
	}
}
