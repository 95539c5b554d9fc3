package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/ghapp"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// appAdd handles keyfob app add: it checks the key and the installation
// (by minting one token with metadata:read, then revoking it, unless
// NoVerify) and stores the key in the keychain.
func (a *Agent) appAdd(ctx context.Context, _ peercred.Cred, req *client.Request) Outcome {
	ev := audit.Event{Op: client.OpAppAdd, Token: req.Name}
	fail := func(code, msg, hint string) Outcome {
		ev.Decision, ev.Reason = audit.Failed, msg
		return Outcome{Resp: errResp(code, msg, hint), Event: ev}
	}
	spec := req.App
	switch {
	case store.ValidName(req.Name) != nil:
		return fail(client.CodeBadRequest, store.ValidName(req.Name).Error(), "")
	case strings.HasPrefix(req.Name, vault.RememberedPrefix):
		return fail(client.CodeBadRequest, "app names may not start with "+vault.RememberedPrefix+": remembered credentials are named so", "choose another name")
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
	if err := checkValue("client id", spec.ClientID); err != nil {
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
	ev.FP = req.Secret.Fingerprint()
	s := a.vault.Snapshot()
	switch {
	case s.Locked():
		ev.Decision = audit.Locked
		return Outcome{Resp: a.lockedResp(s.LockErr), Event: ev}
	case s.NameTaken(req.Name) != "":
		return fail(client.CodeBadRequest, s.NameTaken(req.Name), "keyfob remove "+req.Name+" first, or choose another name")
	}
	now := a.cfg.Now().UTC().Truncate(time.Second)
	ap := store.App{Name: req.Name, Key: req.Secret.Clone(), Meta: store.AppMeta{
		AppID: spec.AppID, InstallationID: spec.InstallationID, Owner: spec.Owner, Hosts: hosts, Created: now,
		Validation: Unverified, ValidationMsg: "not checked (--no-verify)", ClientID: spec.ClientID,
	}}
	if !spec.NoVerify {
		if err := a.verifyApp(ctx, &ap); err != nil {
			ap.Key.Wipe()
			var ge *ghapp.Error
			if errors.As(err, &ge) {
				o := fail(client.CodeDenied, ge.Msg+"; nothing was stored", ge.Hint+", or pass --no-verify to store it unchecked")
				o.Event.Reason = err.Error()
				return o
			}
			var he *hostError
			if errors.As(err, &he) {
				return fail(client.CodeUnavailable, err.Error()+"; nothing was stored", "")
			}
			a.log.Warn("checking a GitHub App failed", zap.String("app", req.Name), zap.Error(err))
			o := fail(client.CodeUnavailable, "app "+req.Name+": checking it failed; nothing was stored", "pass --no-verify to store it unchecked; "+HintLog)
			o.Event.Reason = err.Error()
			return o
		}
	}
	s = a.vault.Snapshot()
	switch {
	case s.Locked():
		ap.Key.Wipe()
		ev.Decision = audit.Locked
		return Outcome{Resp: a.lockedResp(s.LockErr), Event: ev}
	case s.NameTaken(req.Name) != "":
		ap.Key.Wipe()
		return fail(client.CodeBadRequest, s.NameTaken(req.Name), "keyfob remove "+req.Name+" first, or choose another name")
	}
	// Audited before the keychain or memory sees it.
	ev.Decision, ev.Reason = audit.Changed, ap.Meta.ValidationMsg
	var e *vault.AppEntry
	return Outcome{Resp: &client.Response{Token: ap.Name, Fingerprint: ev.FP}, Event: ev,
		Change: &Change{
			Commit: func() (err error) {
				e, err = a.vault.PutApp(ap)
				return err
			},
			Undo:   ap.Key.Wipe,
			Suffix: "; nothing was stored",
		},
		After: func(r *client.Response) {
			r.Apps = []client.AppInfo{a.appInfo(e, nil)}
			a.changed()
		}}
}

// verifyApp checks ap against the API, within ctx: the installation exists
// (and whose it is), and the key can mint a token there. The token is
// revoked at once. It records what it found in ap.Meta.
func (a *Agent) verifyApp(ctx context.Context, ap *store.App) error {
	app, err := a.ghApp(*ap)
	if err != nil {
		return err
	}
	defer app.Key.Wipe()
	ctx, cancel := context.WithTimeout(ctx, mintTimeout)
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
// tokens.
func (a *Agent) appInfo(e *vault.AppEntry, cached []ghapp.Token) client.AppInfo {
	m := e.Meta
	ai := client.AppInfo{Name: e.Name, AppID: m.AppID, InstallationID: m.InstallationID, Owner: m.Owner, Hosts: m.Hosts,
		KeyFP: e.KeyFP, Created: m.Created, Validation: m.Validation, Reason: m.ValidationMsg}
	for _, t := range cached {
		if t.App != e.Name {
			continue
		}
		ai.Cached = append(ai.Cached, client.Minted{Masked: Mask(t.Secret), Fingerprint: t.Fingerprint(), Installation: t.Installation,
			Scope: t.Scope.String(), Repositories: t.Repositories, Permissions: t.Granted, Minted: t.Minted, Expires: t.Expires})
	}
	return ai
}

// appInfos describes every app in s with its cached tokens.
func (a *Agent) appInfos(s *vault.Snapshot) []client.AppInfo {
	cached := a.minter().Cached(nil)
	defer func() {
		for _, t := range cached {
			t.Secret.Wipe()
		}
	}()
	var out []client.AppInfo
	for _, e := range s.Apps {
		out = append(out, a.appInfo(e, cached))
	}
	slices.SortFunc(out, func(x, y client.AppInfo) int { return cmpString(x.Name, y.Name) })
	return out
}
