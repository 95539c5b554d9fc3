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
)

// GitHub Apps: the agent holds each app's private key (from its own
// keychain item, "keyfob.app.NAME") and mints installation tokens on
// demand, through the same resolution path as stored tokens (resolve), so
// git, keyfob token, keyfob exec and grants all get them. Routes name an
// app like a token; a route's permissions and require_repo narrow what is
// minted.

// mintTimeout bounds one mint (JWT, installation lookup, token request).
const mintTimeout = 20 * time.Second

// revokeTimeout bounds revoking the cached tokens at lock, removal and
// shutdown; revocation is best effort, and a token left behind expires
// within the hour.
const revokeTimeout = 5 * time.Second

// appVerifyPermissions is what keyfob app add asks for when it mints a
// token to check the app: the least any app has.
var appVerifyPermissions = map[string]string{"metadata": "read"}

type appEntry struct {
	app store.App
}

// snapshot returns the app with its own copy of the key. Call it with mu
// held; the caller wipes the copy.
func (e *appEntry) snapshot() store.App {
	ap := e.app
	ap.Key = e.app.Key.Clone()
	return ap
}

// mintState holds the minter, made on first use with the agent's clock.
type mintState struct {
	once sync.Once
	m    *ghapp.Minter
}

func (a *Agent) minter() *ghapp.Minter {
	a.mint.once.Do(func() { a.mint.m = &ghapp.Minter{Now: a.cfg.Now} })
	return a.mint.m
}

// loadApps reads the apps from the keychain at unlock. An item that does
// not decode is skipped and logged.
func (a *Agent) loadApps(st *store.Store) map[string]*appEntry {
	apps, bad, err := st.LoadApps()
	if err != nil {
		a.log.Warn("reading GitHub Apps from the keychain", zap.Error(err))
	}
	for _, b := range bad {
		a.log.Warn("skipping keychain item", zap.Error(b))
	}
	m := make(map[string]*appEntry, len(apps))
	for _, ap := range apps {
		m[ap.Name] = &appEntry{app: ap}
	}
	return m
}

func wipeApps(m map[string]*appEntry) {
	for _, e := range m {
		e.app.Key.Wipe()
	}
}

// appPolicyTokens lists the apps as policy sees them: a "token" that
// answers for its hosts. Call it with mu held.
func (a *Agent) appPolicyTokens() []policy.Token {
	var out []policy.Token
	for _, e := range a.apps {
		out = append(out, policy.Token{Name: e.app.Name, Hosts: e.app.Meta.Hosts, Username: DefaultUsername, App: true})
	}
	return out
}

// ghApp turns a stored app into what the minter needs, with its own copy
// of the key (the caller wipes it): a lock wipes the held key and must not
// reach a mint under way.
func (a *Agent) ghApp(ap store.App) (ghapp.App, error) {
	base, ok := a.apiBase(ap.Meta.Hosts)
	if !ok {
		return ghapp.App{}, fmt.Errorf("app %s has no GitHub host (github.com or a configured Enterprise host) among %s", ap.Name, strings.Join(ap.Meta.Hosts, ", "))
	}
	return ghapp.App{Name: ap.Name, ID: ap.Meta.AppID, Installation: ap.Meta.InstallationID, Owner: ap.Meta.Owner,
		Base: base, Key: ap.Key.Clone()}, nil
}

// self is the agent as the peer of events it starts itself (revocation at
// lock and shutdown).
func self() peercred.Cred {
	exe, _ := os.Executable()
	return peercred.Cred{UID: os.Getuid(), PID: os.Getpid(), Exe: exe}
}

// appAnswer answers a request that resolved to a GitHub App: it mints (or
// reuses) an installation token narrowed to the request's repository and
// the route's permissions. It runs without a.mu held: a mint is a network
// call. ev carries what resolve recorded of the request.
func (a *Agent) appAnswer(peer peercred.Cred, req *client.Request, ev audit.Event, ap store.App, route policy.Route, routeMatch, reason, pathWarn string) *client.Response {
	fail := func(decision, code, msg, hint string) *client.Response {
		ev.Decision, ev.Reason = decision, msg
		return a.audited(peer, ev, errResp(code, msg, hint))
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
	ctx, cancel := context.WithTimeout(context.Background(), mintTimeout)
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
			ev.Decision, ev.Reason = audit.Failed, err.Error()
			r := a.audited(peer, ev, errResp(code, ge.Msg, ge.Hint))
			r.MintFailed = true
			return r
		case errors.Is(err, ghapp.ErrDropped):
			return fail(audit.Failed, client.CodeLocked, "app "+ap.Name+": "+err.Error(), "try again (keyfob unlock if the agent is locked)")
		default:
			a.log.Warn("minting an installation token failed", zap.String("app", ap.Name), zap.Error(err))
			return fail(audit.Failed, client.CodeUnavailable, "app "+ap.Name+": minting a token failed: "+err.Error(), "")
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
			a.bg.Add(1)
			go func() {
				defer a.bg.Done()
				a.auditRevokes([]ghapp.Revoked{{Token: t, FP: t.Fingerprint(), Err: a.minter().RevokeToken(context.Background(), t)}}, "scoped to another owner's repository")
			}()
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
	resp = a.audited(peer, ev, resp)
	if resp.Code == "" {
		resp.Warnings = appendNonEmpty(resp.Warnings, pathWarn)
	}
	return resp
}

// auditRevokes writes one revoke line per token; why says what caused it.
func (a *Agent) auditRevokes(rs []ghapp.Revoked, why string) {
	for _, r := range rs {
		ev := audit.Event{Op: "revoke", Decision: audit.Revoked, Reason: why, Token: r.Token.App, FP: r.FP,
			Installation: r.Token.Installation, Scope: r.Token.Scope.String(), Expires: r.Token.Expires, Time: a.cfg.Now()}
		if r.Err != nil {
			ev.Decision, ev.Reason = audit.Failed, why+": "+r.Err.Error()
			a.log.Warn("revoking an installation token failed; it expires by itself", zap.String("app", r.Token.App), zap.String("fp", r.FP), zap.Error(r.Err))
		}
		setPeer(&ev, self())
		if err := a.cfg.Audit.Write(ev); err != nil {
			a.log.Error("audit", zap.Error(err))
		}
	}
}

// dropApps wipes the keys of apps no longer held (lock) and revokes every
// cached installation token.
func (a *Agent) dropApps(old map[string]*appEntry, why string) {
	wipeApps(old)
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	a.auditRevokes(a.minter().Revoke(ctx, nil), why)
}

// removeApp handles keyfob remove NAME for an app: it deletes the key's
// item and revokes the app's cached tokens. It returns nil when no app has
// that name, so remove goes on with tokens.
func (a *Agent) removeApp(peer peercred.Cred, req *client.Request) *client.Response {
	ev := audit.Event{Op: "remove", Token: req.Name}
	a.mu.Lock()
	e := a.apps[req.Name]
	if a.st == nil || e == nil {
		a.mu.Unlock()
		return nil
	}
	// Audited before the keychain or memory changes.
	ev.Decision, ev.Reason, ev.FP = audit.Changed, "app removed; its cached tokens are revoked", e.app.Key.Fingerprint()
	if r := a.audited(peer, ev, &client.Response{}); r.Code != "" {
		a.mu.Unlock()
		r.Error += "; nothing was removed"
		return r
	}
	if err := a.st.RemoveApp(req.Name); err != nil {
		a.mu.Unlock()
		a.log.Error("keychain remove", zap.String("app", req.Name), zap.Error(err))
		ev.Decision, ev.Reason = audit.Failed, "keychain error"
		return a.audited(peer, ev, errResp(client.CodeUnavailable, "keychain remove failed; nothing changed", "keyfob doctor checks the backend"))
	}
	delete(a.apps, req.Name)
	a.tokensChanged()
	a.mu.Unlock()
	ev.FP = e.app.Key.Fingerprint()
	e.app.Key.Wipe()
	a.changed()
	ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
	defer cancel()
	rs := a.minter().Revoke(ctx, func(app string) bool { return app == req.Name })
	a.auditRevokes(rs, "app "+req.Name+" removed")
	return &client.Response{Token: req.Name}
}

// appAdd handles keyfob app add: it checks the key and the installation
// (by minting one token with metadata:read, then revoking it, unless
// NoVerify) and stores the key in the keychain.
func (a *Agent) appAdd(peer peercred.Cred, req *client.Request) *client.Response {
	ev := audit.Event{Op: client.OpAppAdd, Token: req.Name}
	fail := func(code, msg, hint string) *client.Response {
		ev.Decision, ev.Reason = audit.Failed, msg
		return a.audited(peer, ev, errResp(code, msg, hint))
	}
	spec := req.App
	switch {
	case store.ValidName(req.Name) != nil:
		return fail(client.CodeBadRequest, store.ValidName(req.Name).Error(), "")
	case spec == nil || spec.AppID <= 0:
		return fail(client.CodeBadRequest, "an app needs its app id", "")
	case (spec.InstallationID == 0) == (spec.Owner == ""):
		return fail(client.CodeBadRequest, "an app needs exactly one of an installation id and an owner", "")
	case req.Secret.IsZero():
		return fail(client.CodeBadRequest, "empty private key", "")
	}
	if err := checkValue("owner", spec.Owner); err != nil {
		return fail(client.CodeBadRequest, err.Error(), "")
	}
	for _, h := range spec.Hosts {
		if err := checkHost(h); err != nil {
			return fail(client.CodeBadRequest, err.Error(), "")
		}
	}
	if err := ghapp.ParseKey(req.Secret); err != nil {
		return fail(client.CodeBadRequest, err.Error(), "pass the .pem file GitHub offered for download in the app's settings")
	}
	hosts := spec.Hosts
	if len(hosts) == 0 {
		hosts = []string{"github.com"}
	}
	for _, h := range hosts {
		if err := checkHost(h); err != nil {
			return fail(client.CodeBadRequest, err.Error(), "")
		}
	}
	ev.FP = req.Secret.Fingerprint()
	a.mu.RLock()
	locked, lockErr, taken := a.st == nil, a.lockErr, a.nameTaken(req.Name)
	a.mu.RUnlock()
	switch {
	case locked:
		ev.Decision = audit.Locked
		return a.audited(peer, ev, lockedResp(lockErr))
	case taken != "":
		return fail(client.CodeBadRequest, taken, "keyfob remove "+req.Name+" first, or choose another name")
	}
	now := a.cfg.Now().UTC().Truncate(time.Second)
	ap := store.App{Name: req.Name, Key: req.Secret.Clone(), Meta: store.AppMeta{
		AppID: spec.AppID, InstallationID: spec.InstallationID, Owner: spec.Owner, Hosts: hosts, Created: now,
		Validation: Unverified, ValidationMsg: "not checked (--no-verify)",
	}}
	if !spec.NoVerify {
		if err := a.verifyApp(&ap); err != nil {
			ap.Key.Wipe()
			var ge *ghapp.Error
			if errors.As(err, &ge) {
				ev.Decision, ev.Reason = audit.Failed, err.Error()
				return a.audited(peer, ev, errResp(client.CodeDenied, ge.Msg+"; nothing was stored", ge.Hint+", or pass --no-verify to store it unchecked"))
			}
			return fail(client.CodeUnavailable, err.Error()+"; nothing was stored", "pass --no-verify to store it unchecked")
		}
	}

	defer a.changed() // after the unlock below
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil {
		ap.Key.Wipe()
		ev.Decision = audit.Locked
		return a.audited(peer, ev, lockedResp(a.lockErr))
	}
	if taken := a.nameTaken(req.Name); taken != "" {
		ap.Key.Wipe()
		return fail(client.CodeBadRequest, taken, "keyfob remove "+req.Name+" first, or choose another name")
	}
	// Audited before the keychain or memory sees it.
	ev.Decision, ev.Reason = audit.Changed, ap.Meta.ValidationMsg
	if r := a.audited(peer, ev, &client.Response{}); r.Code != "" {
		ap.Key.Wipe()
		r.Error += "; nothing was stored"
		return r
	}
	if err := a.st.PutApp(ap); err != nil {
		ap.Key.Wipe()
		a.log.Error("keychain write", zap.String("app", ap.Name), zap.Error(err))
		return fail(client.CodeUnavailable, "keychain write failed; nothing changed", "keyfob doctor checks the backend")
	}
	if a.apps == nil {
		a.apps = map[string]*appEntry{}
	}
	e := &appEntry{app: ap}
	a.apps[ap.Name] = e
	a.tokensChanged()
	return &client.Response{Token: ap.Name, Fingerprint: ev.FP, Apps: []client.AppInfo{a.appInfo(e, nil)}}
}

// nameTaken says why name cannot be a new app, "" when it can. Tokens and
// apps share one namespace, so a route's token = "NAME" is never
// ambiguous. Call it with mu held.
func (a *Agent) nameTaken(name string) string {
	switch {
	case a.tokens[name] != nil:
		return "a token is named " + name
	case a.apps[name] != nil:
		return "an app is named " + name
	}
	return ""
}

// verifyApp checks ap against the API: the installation exists (and whose
// it is), and the key can mint a token there. The token is revoked at
// once. It records what it found in ap.Meta.
func (a *Agent) verifyApp(ap *store.App) error {
	app, err := a.ghApp(*ap)
	if err != nil {
		return err
	}
	defer app.Key.Wipe()
	ctx, cancel := context.WithTimeout(context.Background(), mintTimeout)
	defer cancel()
	m := a.minter()
	inst, err := m.Lookup(ctx, app)
	if err != nil {
		return err
	}
	if ap.Meta.Owner == "" {
		ap.Meta.Owner = inst.Account
	}
	app.Installation = inst.ID
	tok, err := m.Mint(ctx, app, ghapp.Scope{Permissions: appVerifyPermissions})
	if err != nil {
		return err
	}
	fp := tok.Fingerprint()
	rerr := m.RevokeToken(ctx, tok)
	ap.Meta.Validation, ap.Meta.Validated = Valid, a.cfg.Now().UTC().Truncate(time.Second)
	ap.Meta.ValidationMsg = fmt.Sprintf("installation %d on %s: minted a token (%s, metadata:read) and revoked it", inst.ID, inst.Account, fp)
	if rerr != nil {
		ap.Meta.ValidationMsg = fmt.Sprintf("installation %d on %s: minted a token (%s, metadata:read); revoking it failed (%v), it expires within the hour", inst.ID, inst.Account, fp, rerr)
	}
	return nil
}

// appInfo describes an app and, when cached is not nil, its cached
// tokens. Call it with mu held.
func (a *Agent) appInfo(e *appEntry, cached []ghapp.Token) client.AppInfo {
	m := e.app.Meta
	ai := client.AppInfo{Name: e.app.Name, AppID: m.AppID, InstallationID: m.InstallationID, Owner: m.Owner, Hosts: m.Hosts,
		KeyFP: e.app.Key.Fingerprint(), Created: m.Created, Validation: m.Validation, Reason: m.ValidationMsg}
	for _, t := range cached {
		if t.App != e.app.Name {
			continue
		}
		ai.Cached = append(ai.Cached, client.Minted{Masked: Mask(t.Secret), Fingerprint: t.Fingerprint(), Installation: t.Installation,
			Scope: t.Scope.String(), Repositories: t.Repositories, Permissions: t.Granted, Minted: t.Minted, Expires: t.Expires})
		t.Secret.Wipe()
	}
	return ai
}

// appInfos describes every app with its cached tokens. Call it with mu
// held.
func (a *Agent) appInfos() []client.AppInfo {
	cached := a.minter().Cached(nil)
	var out []client.AppInfo
	for _, e := range a.apps {
		out = append(out, a.appInfo(e, cached))
	}
	slices.SortFunc(out, func(x, y client.AppInfo) int { return cmpString(x.Name, y.Name) })
	return out
}

// mintedReport handles git's store and erase for a minted token: store
// confirms it, erase drops it from the cache (and revokes it), so the next
// request mints a new one. It returns nil when fp is not a cached token.
//
// Like a held token, a minted one is matched only when git's host is in
// its app's allowlist and git's username is the one keyfob gave. Call it
// with mu held.
func (a *Agent) mintedReport(peer peercred.Cred, req *client.Request, ev audit.Event) *client.Response {
	c := req.Cred
	if c.PasswordFP == "" || c.Username != DefaultUsername {
		return nil
	}
	m := a.minter()
	var found *ghapp.Token
	for _, t := range m.Cached(nil) {
		ap := a.apps[t.App]
		if found == nil && ap != nil && policy.HostAllowed(ap.app.Meta.Hosts, c.Host) && t.Fingerprint() == c.PasswordFP {
			found = &t
			continue
		}
		t.Secret.Wipe()
	}
	if found == nil {
		return nil
	}
	if c.State != "" {
		if name, fp, ok := client.ParseState(c.State); !ok || name != found.App || fp != c.PasswordFP {
			found.Secret.Wipe()
			return nil
		}
	}
	t := *found
	ev.Token, ev.FP, ev.Installation, ev.Scope = t.App, t.Fingerprint(), t.Installation, t.Scope.String()
	t.Secret.Wipe()
	if req.Op == client.OpStore {
		ev.Decision, ev.Reason = audit.Stored, "git confirmed the minted token works"
		return a.audited(peer, ev, &client.Response{})
	}
	ev.Decision = audit.Erased
	ev.Reason = "git reported a rejection; the minted token is dropped and revoked, and the next request mints a new one"
	// Audited before the cache changes.
	if r := a.audited(peer, ev, &client.Response{}); r.Code != "" {
		return r
	}
	t, ok := m.Forget(c.PasswordFP)
	if !ok {
		return &client.Response{}
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), revokeTimeout)
		defer cancel()
		err := m.RevokeToken(ctx, t)
		a.auditRevokes([]ghapp.Revoked{{Token: t, FP: ev.FP, Err: err}}, "rejected by "+req.Cred.Host+pathSuffix(req.Cred.Path))
	}()
	return &client.Response{Warnings: []string{fmt.Sprintf(
		"the token minted from app %s (%s) was rejected by %s%s; the next request mints a new one. If it keeps failing, check the app's permissions and the installation's repositories on GitHub",
		t.App, t.Scope, req.Cred.Host, pathSuffix(req.Cred.Path))}}
}
