package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// KindUser is the kind of a user token from keyfob login, as its metadata
// records it; list shows it as KindUserShown.
const (
	KindUser      = "user"
	KindUserShown = "user (refreshes)"
)

// loginTimeout bounds one call to GitHub's web base.
const loginTimeout = 20 * time.Second

// loginTarget is where a login goes: the host, its bases and the client
// id, or why it cannot go anywhere.
type loginTarget struct {
	host     github.Host
	clientID string
}

func (a *Agent) loginTarget(spec *client.LoginSpec) (loginTarget, *client.Response) {
	if spec == nil {
		return loginTarget{}, errResp(client.CodeBadRequest, "login needs a client id", "pass --client-id ID (the GitHub App's client id, Iv1.… or Iv23…)")
	}
	name := cmpOr(spec.Host, "github.com")
	if err := checkHost(name); err != nil {
		return loginTarget{}, errResp(client.CodeBadRequest, err.Error(), "")
	}
	h, ok := a.githubHosts().Lookup(name)
	if !ok {
		return loginTarget{}, errResp(client.CodeBadRequest, name+" is not a GitHub keyfob knows",
			fmt.Sprintf("declare it in the config: [[github]] host = %q (GitHub Enterprise Server), or use SUB.ghe.com", name))
	}
	id := spec.ClientID
	if id == "" && spec.App != "" {
		if ap := a.vault.Snapshot().Apps[spec.App]; ap != nil {
			id = ap.Meta.ClientID
		}
		if id == "" {
			return loginTarget{}, errResp(client.CodeNotFound, "no client id stored for app "+spec.App, "pass --client-id ID, or store it with keyfob app add "+spec.App+" … --client-id ID")
		}
	}
	if id == "" {
		return loginTarget{}, errResp(client.CodeBadRequest, "login needs a client id", "pass --client-id ID (the GitHub App's client id, from its settings page)")
	}
	if err := checkValue("client id", id); err != nil {
		return loginTarget{}, errResp(client.CodeBadRequest, err.Error(), "")
	}
	if err := checkValue("scope", spec.Scope); err != nil {
		return loginTarget{}, errResp(client.CodeBadRequest, err.Error(), "")
	}
	return loginTarget{host: h, clientID: id}, nil
}

// oauthRefusal explains an OAuth error of the device flow or a refresh in
// one line, with what to do.
func oauthRefusal(err error, t loginTarget) (code, msg, hint string) {
	switch github.OAuthCode(err) {
	case github.ErrCodeExpired:
		return client.CodeDenied, "the device code expired before it was approved", "run keyfob login again, and enter the code within 15 minutes"
	case github.ErrCodeDenied:
		return client.CodeDenied, "the authorization was denied on GitHub", "run keyfob login again and choose Authorize"
	case github.ErrCodeClientID:
		return client.CodeDenied, fmt.Sprintf("%s does not know client id %q", t.host.Web, t.clientID),
			"copy the Client ID from the GitHub App's settings page (not the App ID)"
	case github.ErrCodeDeviceFlowOff:
		return client.CodeDenied, "the app does not allow the device flow",
			"in the GitHub App's settings, check Enable Device Flow and save"
	case github.ErrCodeDeviceCode:
		return client.CodeDenied, "GitHub does not know this device code", "run keyfob login again"
	case github.ErrCodeBadRefreshToken:
		return client.CodeDenied, "GitHub refused the refresh token (revoked, expired or already used)", "run keyfob login again"
	case "":
		if errors.Is(err, github.ErrUnreachable) {
			return client.CodeUnavailable, "could not reach " + t.host.Web + " (" + clip(unreachableCause(err), 120) + ")", "check the network, or the host's web base ([[github]] web = …)"
		}
		return client.CodeUnavailable, "login failed: " + clip(err.Error(), 200), ""
	}
	return client.CodeDenied, "GitHub answered " + clip(err.Error(), 200), "run keyfob login again"
}

// loginStart handles login-start: it asks GitHub for a device code and
// answers the user code to show, with the device code as the secret.
func (a *Agent) loginStart(ctx context.Context, _ peercred.Cred, req *client.Request) Outcome {
	ev := audit.Event{Op: client.OpLoginStart}
	t, bad := a.loginTarget(req.Login)
	if bad != nil {
		ev.Decision, ev.Reason = audit.Failed, bad.Error
		return Outcome{Resp: bad, Event: ev}
	}
	ev.Host = t.host.Name
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	da, err := github.NewOAuth(t.host.Web).DeviceCode(ctx, t.clientID, req.Login.Scope)
	if err != nil {
		code, msg, hint := oauthRefusal(err, t)
		ev.Decision, ev.Reason = audit.Failed, msg
		return Outcome{Resp: errResp(code, msg, hint), Event: ev}
	}
	ev.Decision, ev.Reason = audit.Granted, "device code for client "+t.clientID
	return Outcome{Event: ev, Resp: &client.Response{Secret: da.DeviceCode, Login: &client.LoginInfo{
		UserCode: da.UserCode, VerificationURI: da.VerificationURI,
		Interval: int64(da.Interval / time.Second), ExpiresIn: int64(da.ExpiresIn / time.Second)}}}
}

// loginPoll handles login-poll: one poll of GitHub's token endpoint with
// the device code. A pending answer is not audited (it hands out and
// changes nothing); an approval stores the user token and its refresh
// token, audited first, and answers the token's description only.
func (a *Agent) loginPoll(ctx context.Context, _ peercred.Cred, req *client.Request) Outcome {
	ev := audit.Event{Op: "login", Token: req.Name}
	fail := func(code, msg, hint string) Outcome {
		ev.Decision, ev.Reason = audit.Failed, msg
		return Outcome{Resp: errResp(code, msg, hint), Event: ev}
	}
	t, bad := a.loginTarget(req.Login)
	if bad != nil {
		return fail(bad.Code, bad.Error, bad.Hint)
	}
	ev.Host = t.host.Name
	if req.Name != "" {
		if err := store.ValidName(req.Name); err != nil {
			return fail(client.CodeBadRequest, err.Error(), "")
		}
	}
	if req.Secret.IsZero() {
		return fail(client.CodeBadRequest, "login-poll needs the device code", "")
	}
	if s := a.vault.Snapshot(); s.Locked() {
		ev.Decision = audit.Locked
		return Outcome{Resp: a.lockedResp(s.LockErr), Event: ev}
	}
	pctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	oa := github.NewOAuth(t.host.Web)
	oa.Now = a.cfg.Now
	ut, err := oa.PollDevice(pctx, t.clientID, req.Secret)
	var oe *github.OAuthError
	if errors.As(err, &oe) && (oe.Code == github.ErrCodePending || oe.Code == github.ErrCodeSlowDown) {
		info := &client.LoginInfo{Pending: true, Interval: int64(oe.Interval / time.Second)}
		return Outcome{Resp: &client.Response{Login: info}, Quiet: true}
	}
	if err != nil {
		code, msg, hint := oauthRefusal(err, t)
		return fail(code, msg, hint)
	}
	// From here the pair is ours alone: wiped unless the change takes it.
	v, verr := github.New(t.host.API).Validate(pctx, ut.Access)
	name := req.Name
	if verr == nil && name == "" {
		name = v.Login + "@" + t.host.Name
	}
	ev.Token = name
	switch {
	case verr != nil && github.IsInvalid(verr):
		ut.Wipe()
		return fail(client.CodeDenied, "GitHub refused the new token at "+t.host.API+"/user", "check the host's API base, then run keyfob login again")
	case verr != nil && name == "":
		ut.Wipe()
		return fail(client.CodeUnavailable, "could not ask "+t.host.API+"/user who the token belongs to, so it has no name", "pass --name NAME, or try again")
	}
	if err := store.ValidName(name); err != nil {
		ut.Wipe()
		return fail(client.CodeBadRequest, err.Error(), "pass --name NAME")
	}
	s := a.vault.Snapshot()
	old := s.Tokens[name]
	switch {
	case s.Apps[name] != nil:
		ut.Wipe()
		return fail(client.CodeBadRequest, "an app is named "+name, "pass --name with another name")
	case old != nil && old.Meta.ClientID == "":
		ut.Wipe()
		return fail(client.CodeBadRequest, "token "+name+" exists and is not from keyfob login", "pass --name with another name, or keyfob remove "+name+" first")
	}
	now := a.cfg.Now().UTC().Truncate(time.Second)
	m := store.Meta{Hosts: []string{t.host.Name}, Username: DefaultUsername, Created: now, Kind: KindUser,
		Expires: ut.Expires, ClientID: t.clientID, OAuthWeb: t.host.Web, RefreshExpires: ut.RefreshExpires}
	if old != nil {
		m.Hosts, m.Created, m.Rotated = old.Meta.Hosts, old.Meta.Created, now
	}
	if verr == nil {
		m.Login, m.Username = v.Login, v.Login
		m.Validation, m.ValidationMsg, m.Validated = Valid, "GET /user as "+v.Login, now
		if m.Expires.IsZero() {
			m.Expires = v.Expires
		}
	} else {
		a.log.Warn("new user token not validated", zap.String("api", t.host.API), zap.Error(verr))
		m.Validation, m.ValidationMsg, m.Validated = Unverified, "could not reach "+t.host.API+"/user", now
	}
	tok := store.Token{Name: name, Secret: ut.Access, Refresh: ut.Refresh, Meta: m}
	ev.Decision, ev.FP, ev.Reason = audit.Changed, tok.Secret.Fingerprint(), "user token from the device flow ("+m.ValidationMsg+")"
	resp := &client.Response{Token: name, Fingerprint: ev.FP}
	if ut.Refresh.IsZero() {
		resp.Warnings = append(resp.Warnings, "GitHub sent no refresh token: the app does not expire user tokens, so this token does not refresh (turn on user token expiration in the app's settings)")
	}
	var e *vault.Entry
	return Outcome{Resp: resp, Event: ev,
		Change: &Change{
			Commit: func() (err error) {
				e, err = a.vault.Put(old, tok)
				return err
			},
			Undo:   ut.Wipe,
			Suffix: "; nothing was stored",
		},
		After: func(r *client.Response) {
			r.Tokens = []client.TokenInfo{a.info(e, a.cfg.Now())}
			a.changed()
			a.kickRefresher()
		}}
}
