package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/ghapp"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// GitHub Apps: the vault holds each app's private key (from its own
// keychain item, "keyfob.app.NAME") and the agent mints installation
// tokens on demand, through the same resolution path as stored tokens
// (resolve), so git, keyfob token, keyfob exec and grants all get them.
// Routes name an app like a token; a route's permissions and require_repo
// narrow what is minted.

// mintTimeout bounds one mint (JWT, installation lookup, token request).
const mintTimeout = 20 * time.Second

// revokeTimeout bounds revoking the cached tokens at lock, removal and
// shutdown; revocation is best effort, and a token left behind expires
// within the hour.
const revokeTimeout = 5 * time.Second

// appVerifyPermissions is what keyfob app add asks for when it mints a
// token to check the app: the least any app has.
var appVerifyPermissions = map[string]string{"metadata": "read"}

// mintState holds the minter, made on first use with the agent's clock.
type mintState struct {
	once sync.Once
	m    *ghapp.Minter
}

func (a *Agent) minter() *ghapp.Minter {
	a.mint.once.Do(func() { a.mint.m = &ghapp.Minter{Now: a.cfg.Now} })
	return a.mint.m
}

// ghApp turns a stored app into what the minter needs, with its own copy
// of the key (the caller wipes it): a lock wipes the held key and must not
// reach a mint under way.
func (a *Agent) ghApp(ap store.App) (ghapp.App, error) {
	base, ok := a.apiBase(ap.Meta.Hosts)
	if !ok {
		return ghapp.App{}, &hostError{app: ap.Name, hosts: ap.Meta.Hosts}
	}
	return ghapp.App{Name: ap.Name, ID: ap.Meta.AppID, Installation: ap.Meta.InstallationID, Owner: ap.Meta.Owner,
		Base: base, Key: ap.Key.Clone()}, nil
}

// hostError is ghApp's: the app names no host with an API keyfob knows.
type hostError struct {
	app   string
	hosts []string
}

func (e *hostError) Error() string {
	return fmt.Sprintf("app %s has no GitHub host (github.com or a configured Enterprise host) among %s", e.app, strings.Join(e.hosts, ", "))
}

// self is the agent as the peer of events it starts itself (revocation at
// lock and shutdown).
func self() peercred.Cred {
	exe, _ := os.Executable()
	return peercred.Cred{UID: os.Getuid(), PID: os.Getpid(), Exe: exe}
}

// appAnswer answers a request that resolved to a GitHub App: it mints (or
// reuses) an installation token narrowed to the request's repository and
// the route's permissions, within ctx. ap holds a copy of the key, which
// appAnswer wipes. ev carries what resolve recorded of the request.
func (a *Agent) appAnswer(ctx context.Context, req *client.Request, ev audit.Event, ap store.App, route policy.Route, routeMatch, reason, pathWarn string) Outcome {
	fail := func(decision, code, msg, hint string) Outcome {
		ev.Decision, ev.Reason = decision, msg
		return Outcome{Resp: errResp(code, msg, hint), Event: ev}
	}
	defer ap.Key.Wipe()
	ev.Token = ap.Name
	app, err := a.ghApp(ap)
	if err != nil {
		return fail(audit.Failed, client.CodeUnavailable, err.Error(), "keyfob app add the app again with --host github.com (or the Enterprise host)")
	}
	defer app.Key.Wipe()
	sc := ghapp.Scope{Permissions: route.Permissions.Map()}
	var target policy.Target
	if req.Cred != nil {
		target = policy.ParseTarget(req.Cred.Host, req.Cred.Path)
	}
	switch {
	case target.Repo != "":
		if app.Owner != "" && !strings.EqualFold(target.Owner, app.Owner) {
			return fail(audit.Denied, client.CodeDenied, fmt.Sprintf("repository %s/%s is not in app %s's installation, which is on %s", target.Owner, target.Repo, ap.Name, app.Owner),
				"route "+target.Owner+"'s repositories to a token or app installed there")
		}
		sc.Repositories = []string{target.Repo}
		if app.Owner == "" && app.Installation != 0 {
			app.Owner = target.Owner // for messages only: minting goes by the id
		}
	case route.RequireRepo:
		return fail(audit.Denied, client.CodeDenied, fmt.Sprintf("%s requires a token scoped to a repository, and the request names none", route.Describe()),
			"git sends the repository only with credential.useHttpPath: keyfob setup git --host HOST turns it on; keyfob token and exec need a URL with owner/repo")
	}
	ctx, cancel := context.WithTimeout(ctx, mintTimeout)
	defer cancel()
	tok, minted, err := a.minter().Get(ctx, app, sc)
	if err != nil {
		ev.Installation, ev.Scope = app.Installation, sc.Normal().String()
		var ge *ghapp.Error
		switch {
		case errors.As(err, &ge):
			code := client.CodeDenied
			if ge.Kind == ghapp.Unreachable {
				code = client.CodeUnavailable
			}
			a.log.Warn("minting an installation token failed", zap.String("app", ap.Name), zap.String("kind", ge.Kind), zap.Error(err))
			o := fail(audit.Failed, code, ge.Msg, ge.Hint)
			o.Event.Reason = err.Error()
			o.Resp.MintFailed = true
			return o
		case errors.Is(err, ghapp.ErrDropped):
			return fail(audit.Failed, client.CodeLocked, "app "+ap.Name+": "+err.Error(), "try again (keyfob unlock if the agent is locked)")
		default:
			a.log.Warn("minting an installation token failed", zap.String("app", ap.Name), zap.Error(err))
			o := fail(audit.Failed, client.CodeUnavailable, "app "+ap.Name+": minting a token failed", HintLog)
			o.Event.Reason = err.Error()
			return o
		}
	}
	ev.Installation, ev.Scope, ev.Expires, ev.FP = tok.Installation, tok.Scope.String(), tok.Expires, tok.Fingerprint()
	if target.Repo != "" && len(tok.Repositories) > 0 && !slices.ContainsFunc(tok.Repositories, func(r string) bool {
		return strings.EqualFold(r, target.Owner+"/"+target.Repo)
	}) {
		// An installation on another account has a repository of the
		// same name: that token is not for this repository.
		tok.Secret.Wipe()
		if t, ok := a.minter().Forget(ev.FP); ok {
			a.revokeLater(t, "scoped to another owner's repository")
		}
		return fail(audit.Denied, client.CodeDenied, fmt.Sprintf("repository %s/%s is not in app %s's installation %d (GitHub scoped the token to %s)",
			target.Owner, target.Repo, ap.Name, tok.Installation, strings.Join(tok.Repositories, ", ")), "route "+target.Owner+"'s repositories to a token or app installed there")
	}
	ev.Decision, ev.Reason, ev.Mint = audit.Granted, reason, audit.Reused
	if minted {
		ev.Mint = audit.Minted
		a.log.Info("minted an installation token", zap.String("app", ap.Name), zap.Int64("installation", tok.Installation),
			zap.String("scope", ev.Scope), zap.String("fp", ev.FP), zap.Time("expires", tok.Expires))
	}
	resp := &client.Response{
		Username:    DefaultUsername,
		Token:       ap.Name,
		Fingerprint: ev.FP,
		Route:       routeMatch,
		Reason:      reason,
		Expiry:      tok.Expires.Unix(),
		Secret:      tok.Secret,
	}
	return Outcome{Resp: resp, Event: ev, After: func(r *client.Response) {
		r.Warnings = appendNonEmpty(r.Warnings, pathWarn)
	}}
}

// revokeLater revokes a token dropped from the cache in the background,
// within revokeTimeout, and audits the result; why says what caused it.
func (a *Agent) revokeLater(t ghapp.Token, why string) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		ctx, cancel := revokeContext(a.life)
		defer cancel()
		err := a.minter().RevokeToken(ctx, t)
		a.auditRevokes([]ghapp.Revoked{{Token: t, FP: t.Fingerprint(), Err: err}}, why)
	}()
}

// auditRevokes writes one revoke line per token; why says what caused it.
// A revocation only takes access away, so it has happened whether or not
// its line can be written.
func (a *Agent) auditRevokes(rs []ghapp.Revoked, why string) {
	for _, r := range rs {
		ev := audit.Event{Op: "revoke", Decision: audit.Revoked, Reason: why, Token: r.Token.App, FP: r.FP,
			Installation: r.Token.Installation, Scope: r.Token.Scope.String(), Expires: r.Token.Expires, Time: a.cfg.Now()}
		if r.Err != nil {
			ev.Decision, ev.Reason = audit.Failed, why+": "+r.Err.Error()
			a.log.Warn("revoking an installation token failed; it expires by itself", zap.String("app", r.Token.App), zap.String("fp", r.FP), zap.Error(r.Err))
		}
		if err := a.Record(self(), ev); err != nil {
			a.log.Error("audit", zap.Error(err))
		}
	}
}

// revokeApps revokes the cached installation tokens of the apps keep
// selects (nil: every app) and audits each.
func (a *Agent) revokeApps(ctx context.Context, keep func(app string) bool, why string) {
	ctx, cancel := revokeContext(ctx)
	defer cancel()
	a.auditRevokes(a.minter().Revoke(ctx, keep), why)
}

// revokeContext is ctx for a revocation: within ctx's deadline and at most
// revokeTimeout, but not cut short when ctx is cancelled (a request's end,
// the agent stopping), because the tokens have left the cache by then and
// one dropped unrevoked stays valid at GitHub until it expires.
func revokeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := time.Now().Add(revokeTimeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return context.WithDeadline(context.WithoutCancel(ctx), d)
}

// removeApp handles keyfob remove NAME for an app: it deletes the key's
// item and then revokes the app's cached tokens.
func (a *Agent) removeApp(ctx context.Context, ev audit.Event, ap *vault.AppEntry) Outcome {
	// Audited before the keychain or memory changes.
	ev.Decision, ev.Reason, ev.FP = audit.Changed, "app removed; its cached tokens are revoked", ap.KeyFP
	return Outcome{Resp: &client.Response{Token: ap.Name}, Event: ev,
		Change: &Change{
			Commit: func() error { return a.vault.RemoveApp(ap) },
			Failed: a.keychainFailed("keychain remove", ap.Name, "keychain remove failed; nothing changed", "keychain error"),
			Suffix: "; nothing was removed",
		},
		After: func(*client.Response) {
			a.changed()
			a.revokeApps(ctx, func(app string) bool { return app == ap.Name }, "app "+ap.Name+" removed")
		}}
}
