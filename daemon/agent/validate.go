package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// Validation results kept in a token's metadata.
const (
	Valid        = vault.Valid
	Unverified   = vault.Unverified
	Invalid      = vault.Invalid
	MissingPerms = vault.MissingPerms
)

// validateTimeout bounds one check of a token against the API.
const validateTimeout = 15 * time.Second

// apiHost returns the first GitHub host in hosts, with its bases.
func (a *Agent) apiHost(hosts []string) (github.Host, bool) {
	gh := a.githubHosts()
	for _, h := range hosts {
		if e, ok := gh.Lookup(h); ok {
			return e, true
		}
	}
	return github.Host{}, false
}

// apiBase returns the GitHub API base for the first GitHub host in hosts.
func (a *Agent) apiBase(hosts []string) (string, bool) {
	e, ok := a.apiHost(hosts)
	return e.API, ok
}

// verdict is what validation found, ready to be applied to metadata.
type verdict struct {
	v       github.Validation
	result  string
	msg     string
	warning string
	// sso is what the SAML SSO checks found (sso.go).
	sso []ssoFinding
}

// refusal is a validation that refuses the token, with a message and a
// hint for the user.
type refusal struct {
	msg, hint string
	err       error
}

func (r *refusal) Error() string { return r.msg }
func (r *refusal) Unwrap() error { return r.err }

// validate checks secret against the API of the first GitHub host in
// hosts, within ctx, and the SAML SSO of the owners routes send to token
// name. A token for other hosts, or with noVerify, is not checked. A token
// GitHub rejects (401), or an API that is not there (404), is a *refusal;
// an API that does not answer (the network, a timeout, a 5xx) is a
// warning, and the token is stored unverified.
func (a *Agent) validate(ctx context.Context, name string, hosts []string, secret client.Secret, noVerify bool) (verdict, error) {
	host, ok := a.apiHost(hosts)
	if !ok {
		return verdict{}, nil
	}
	if noVerify {
		return verdict{result: Unverified, msg: "not checked (--no-verify)"}, nil
	}
	base := host.API
	ctx, cancel := context.WithTimeout(ctx, validateTimeout)
	defer cancel()
	v, err := github.New(base).Validate(ctx, secret)
	var ae *github.APIError
	unverified := func(why, detail string) (verdict, error) {
		a.log.Warn("token not validated", zap.String("api", base), zap.Error(err))
		return verdict{result: Unverified, msg: why + detail,
			warning: why + ", so the token is stored unverified" + detail + "; keyfob checks it again when git reports a rejection"}, nil
	}
	switch {
	case err == nil:
		vd := verdict{v: v, result: Valid, msg: "GET /user as " + v.Login}
		vd.sso = a.checkOwners(ctx, name, hosts, secret)
		for _, f := range vd.sso {
			if f.URL != "" {
				vd.warning = joinNonEmpty(vd.warning, fmt.Sprintf("organization %s enforces SAML SSO and refuses the token until it is authorized: open %s", f.Org, f.URL))
			}
		}
		return vd, nil
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return verdict{}, fmt.Errorf("validation cut short: %w", ctx.Err())
	case errors.Is(err, github.ErrUnreachable):
		return unverified("could not reach the GitHub API at "+base, " ("+clip(unreachableCause(err), 120)+")")
	}
	if u, org, ok := github.SSORequired(err); ok {
		vd := verdict{result: Unverified, msg: "SAML SSO: organization " + org + " requires authorizing the token",
			sso:     []ssoFinding{{Org: cmpOr(org, host.Name), URL: u}},
			warning: fmt.Sprintf("organization %s enforces SAML SSO and refuses the token until it is authorized: open %s", cmpOr(org, host.Name), u)}
		return vd, nil
	}
	switch {
	case errors.As(err, &ae) && ae.Status >= 500:
		return unverified(fmt.Sprintf("the GitHub API at %s/user answered %d", base, ae.Status), "")
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		r := &refusal{err: err,
			msg:  fmt.Sprintf("GET %s/user answered 404: %s is probably not the REST API of %s", base, base, host.Name),
			hint: fmt.Sprintf("set the API base in the config: [[github]] host = %q, api = \"https://%s/api/v3\" (or the server's API URL); or pass --no-verify", host.Name, host.Name)}
		if host.Name == "github.com" {
			r.hint = "KEYFOB_GITHUB_API names github.com's API base; unset it, or pass --no-verify"
		}
		return verdict{}, r
	}
	return verdict{}, &refusal{err: err, msg: "GitHub refused the token: " + err.Error(), hint: "check the token, or pass --no-verify to store it unchecked"}
}

// unreachableCause is the cause of an unreachable API in a few words
// ("connection refused", "context deadline exceeded"): the URL is named
// already.
func unreachableCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
		return err.Error()
	}
	return strings.TrimPrefix(err.Error(), github.ErrUnreachable.Error()+": ")
}

func joinNonEmpty(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
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

// revalidationAPI returns the API to re-check a token with hosts after a
// rejection at host: host's own when it is a GitHub host in the
// allowlist, else the first GitHub host of the allowlist. Never the API of
// a host outside the allowlist, whatever git named.
func (a *Agent) revalidationAPI(hosts []string, host string) (string, bool) {
	if policy.HostAllowed(hosts, host) {
		if base, ok := a.githubHosts().API(host); ok {
			return base, true
		}
	}
	return a.apiBase(hosts)
}

// startRevalidation re-validates e in the background after a rejection at
// host/path, unless a re-validation of it is already in flight. Only the
// API of host is asked, and host is one of e's own (gitReport checked it
// against the allowlist). It runs until Shutdown at most.
func (a *Agent) startRevalidation(peer peercred.Cred, e *vault.Entry, host, path string) {
	if !policy.HostAllowed(e.Meta.Hosts, host) {
		return
	}
	if !e.Revalidating.CompareAndSwap(false, true) {
		return
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		defer e.Revalidating.Store(false)
		a.revalidate(a.life, peer, e, host, path)
	}()
}

// revalidate runs after git reported a rejection (erase). It asks the API
// of host (one of the token's own) whether the token is still good and, for
// a repository, whether it may read it; the answer is audited, then
// recorded in memory and the keychain item.
func (a *Agent) revalidate(ctx context.Context, peer peercred.Cred, e *vault.Entry, host, path string) {
	secret, ok := e.Secret()
	if !ok {
		return // rotated, removed or locked meanwhile
	}
	defer secret.Wipe()
	name, fp := e.Name, e.FP
	base, ok := a.revalidationAPI(e.Meta.Hosts, host)
	if !ok {
		a.unsuspect(peer, name, fp, host, path, "no API to re-check it; it is served again, and the rejection stays on record")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, validateTimeout)
	defer cancel()
	gh := github.New(base)
	result, msg := Valid, ""
	var sso []ssoFinding
	v, err := gh.Validate(ctx, secret)
	ssoURL, ssoOrg, ssoHit := github.SSORequired(err)
	switch {
	case a.life.Err() != nil:
		return // stopping: the token stays suspect until the lock drops it
	case github.IsInvalid(err):
		result, msg = Invalid, err.Error()
	case ssoHit:
		ssoOrg = cmpOr(ssoOrg, policy.ParseTarget(host, path).Owner)
		result, msg = Unverified, "SAML SSO: organization "+ssoOrg+" requires authorizing the token"
		sso = []ssoFinding{{Org: ssoOrg, URL: ssoURL}}
	case err != nil:
		a.log.Warn("re-validation failed", zap.String("token", name), zap.Error(err))
		a.unsuspect(peer, name, fp, host, path, "re-validation could not reach "+base+"; it is served again, and the rejection stays on record")
		return
	default:
		msg = "GET /user as " + v.Login
		t := policy.ParseTarget(host, path)
		if t.Owner != "" && t.Repo != "" {
			var ae *github.APIError
			rerr := gh.RepoAccess(ctx, secret, t.Owner, t.Repo)
			if u, org, ok := github.SSORequired(rerr); ok {
				sso = append(sso, ssoFinding{Org: cmpOr(org, t.Owner), URL: u})
			} else if answered(rerr) {
				sso = append(sso, ssoFinding{Org: t.Owner})
			}
			if errors.As(rerr, &ae) {
				switch {
				case ae.SSO != "":
					msg = fmt.Sprintf("valid, but organization %s enforces SAML SSO: authorize the token at %s", cmpOr(github.SSOOrg(ae.SSO), t.Owner), ae.SSO)
				case ae.Status == 403 && ae.Accepted != "":
					result, msg = MissingPerms, fmt.Sprintf("%s/%s needs %s", t.Owner, t.Repo, ae.Accepted)
				default:
					msg = fmt.Sprintf("valid, but %s/%s answered %d: the token may lack access to it", t.Owner, t.Repo, ae.Status)
				}
			}
		}
	}

	cur := a.vault.Snapshot().Tokens[name]
	if cur == nil || cur.FP != fp {
		return // rotated, removed or locked meanwhile
	}
	now := a.cfg.Now().UTC()
	m := cur.Meta
	m.Validation, m.ValidationMsg, m.Validated = result, msg, now
	if result == Valid && v.Login != "" {
		m.Login = v.Login
	}
	m.LastRejected, m.RejectedAt = now, host+pathSuffix(path)
	// Audited before memory and the keychain change; without the line,
	// the token stays as it was (suspect, so not served).
	ev := audit.Event{Op: "validate", Decision: result, Reason: msg, Protocol: "https", Host: host, Path: path, Token: name, FP: fp, Time: now}
	if err := a.Record(peer, ev); err != nil {
		a.log.Error("audit write failed; re-validation result not recorded", zap.String("token", name), zap.Error(err))
		return
	}
	if _, err := a.vault.Note(cur, m); err != nil {
		// The result holds in memory (an invalid token stops answering
		// now); the keychain keeps the old one, and a restart checks
		// again at the next rejection. Said in the log and the audit log.
		a.log.Error("keychain write", zap.String("token", name), zap.Error(err))
		ev.Decision, ev.Reason = audit.Failed, "the re-validation result holds until the agent stops: the keychain could not record it"
		_ = a.Record(peer, ev)
	}
	a.sso.note(name, fp, sso)
	if result != Invalid {
		cur.Suspect.Store(false)
	}
	a.log.Warn("token re-validated after a rejection", zap.String("token", name), zap.String("result", result), zap.String("detail", msg))
}

// unsuspect ends a token's suspect mark when its rejection cannot be
// checked, so that one failure at a host keyfob cannot ask does not stop
// the token for good. It is audited first.
func (a *Agent) unsuspect(peer peercred.Cred, name, fp, host, path, why string) {
	e := a.vault.Snapshot().Tokens[name]
	if e == nil || e.FP != fp || !e.Suspect.Load() {
		return
	}
	now := a.cfg.Now().UTC()
	ev := audit.Event{Op: "validate", Decision: Unverified, Reason: why, Protocol: "https", Host: host, Path: path, Token: name, FP: fp, Time: now}
	if err := a.Record(peer, ev); err != nil {
		a.log.Error("audit write failed; token stays suspect", zap.String("token", name), zap.Error(err))
		return
	}
	a.recordRejection(e, host, path)
	e.Suspect.Store(false)
}
