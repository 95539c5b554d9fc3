package agent

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// Remembering: for a host [[remember]] names, keyfob keeps what git
// approves (store), answers with it (get) and forgets it when git rejects
// it (erase), as git's credential-cache does, but in the keychain and
// audited. How it combines with tokens:
//
//   - Tokens, Apps and routes answer first. A remembered credential
//     answers only where policy finds no token at all: no route matched
//     and no token's allowlist has the host (or tokens are refused only
//     because the protocol is plain http).
//   - A route that matches but cannot answer answers nothing: the route
//     names the credential the user wants.
//   - A remembered credential answers only for its own protocol, host and
//     path (exactly as git sent them when it was stored, path only with
//     credential.useHttpPath), for the username git asks for, and only
//     while the host is still in [[remember]]. Grants never get one.
//   - store keeps nothing that is a keyfob token (that is git confirming
//     the token), and nothing for a host [[remember]] does not name: the
//     password the helper sent is wiped unread.

// rememberable says why c cannot be remembered or answered from memory,
// "" when it can: the values would reach git's stream, so no control
// character; a host; a path GitHub's reading would not change; http or
// https.
func rememberable(c *client.Credential) string {
	for what, v := range map[string]string{"protocol": c.Protocol, "path": c.Path, "username": c.Username} {
		if v != "" {
			if err := checkValue(what, v); err != nil {
				return err.Error()
			}
		}
	}
	if err := checkHost(c.Host); err != nil {
		return err.Error()
	}
	if _, err := policy.CanonicalPath(c.Path); err != nil {
		return err.Error()
	}
	if c.Protocol != "https" && c.Protocol != "http" {
		return "protocol " + c.Protocol + " is not http or https"
	}
	return ""
}

// remembers reports whether c's host (and path) is one [[remember]] names.
func (a *Agent) remembers(c *client.Credential) bool {
	return a.currentRoutes().Remember().Covers(c.Host, c.Path)
}

func rememberedKey(c *client.Credential) store.RememberedKey {
	return store.RememberedKey{Protocol: c.Protocol, Host: c.Host, Path: c.Path, Username: c.Username}
}

// rememberStore handles git's store of a credential that is not keyfob's:
// kept when the host is remembered, otherwise noted and dropped.
func (a *Agent) rememberStore(s *vault.Snapshot, req *client.Request, ev audit.Event) Outcome {
	c := req.Cred
	resp := &client.Response{}
	ev.Decision = audit.Stored
	drop := func(why string) Outcome {
		ev.Reason = why
		return Outcome{Resp: resp, Event: ev}
	}
	switch {
	case !a.remembers(c):
		return drop("not a keyfob token for this host and username, and [[remember]] does not name the host; keyfob does not keep it")
	case rememberable(c) != "":
		return drop("not remembered: " + rememberable(c))
	case c.Username == "" && !c.EmptyUsername:
		return drop("not remembered: git sent no username")
	case req.Secret.IsZero() && !c.EmptyPassword:
		return drop("not remembered: git sent no password")
	case req.Secret.HasControl() || req.Refresh.HasControl():
		return drop("not remembered: the password or refresh token holds a control character")
	case c.PasswordExpiryUTC > 0 && c.PasswordExpiryUTC <= a.cfg.Now().Unix():
		return drop("not remembered: the password has already expired")
	case a.isKeyfobSecret(s, req.Secret):
		// git confirms a secret keyfob gave out (a token, a minted one)
		// that the match above missed, say after a rotate: it is
		// keyfob's own, never a credential to remember.
		return drop("not remembered: it is a secret keyfob handed out")
	}
	k := rememberedKey(c)
	old := s.Remembered[k.ID()]
	var expires time.Time
	if c.PasswordExpiryUTC > 0 {
		expires = time.Unix(c.PasswordExpiryUTC, 0).UTC()
	}
	ev.Token = vault.RememberedName(k)
	if !req.Secret.IsZero() {
		ev.FP = req.Secret.Fingerprint()
	}
	if old != nil && sameRemembered(old, req, expires) {
		return drop("remembered credential confirmed; unchanged")
	}
	// Copies: the server wipes the request's secrets once it is answered.
	r := store.Remembered{
		Meta:     store.RememberedMeta{RememberedKey: k, Expires: expires, Stored: a.cfg.Now().UTC()},
		Password: req.Secret.Clone(), Refresh: req.Refresh.Clone(),
	}
	ev.Reason = "remembered: git approved it for a host [[remember]] names"
	return Outcome{Resp: resp, Event: ev, Change: &Change{
		Commit: func() error {
			_, err := a.vault.PutRemembered(old, r)
			return err
		},
		Undo: func() {
			r.Password.Wipe()
			r.Refresh.Wipe()
		},
		Failed: a.keychainFailed("keychain write", ev.Token, "keychain write failed; the credential was not remembered", ""),
		Suffix: "; nothing was remembered",
	}, After: func(*client.Response) { a.changed() }}
}

// sameRemembered reports whether git's store repeats what old holds.
func sameRemembered(old *vault.RememberedEntry, req *client.Request, expires time.Time) bool {
	pass, refresh, ok := old.Secrets()
	defer pass.Wipe()
	defer refresh.Wipe()
	return ok && old.Meta.Expires.Equal(expires) &&
		subtle.ConstantTimeCompare(pass.Bytes(), req.Secret.Bytes()) == 1 &&
		subtle.ConstantTimeCompare(refresh.Bytes(), req.Refresh.Bytes()) == 1
}

// matchesErase reports whether git's erase names e, as git's
// credential_match reads it for stores: every attribute git sent must be
// e's (an explicit empty username or password is one), and those it left
// out match anything.
func matchesErase(e *vault.RememberedEntry, c *client.Credential) bool {
	k := e.Meta.RememberedKey
	switch {
	case c.Protocol != "" && c.Protocol != k.Protocol, c.Host != k.Host, c.Path != "" && c.Path != k.Path:
		return false
	case (c.Username != "" || c.EmptyUsername) && c.Username != k.Username:
		return false
	case c.PasswordFP != "":
		return subtle.ConstantTimeCompare([]byte(c.PasswordFP), []byte(e.FP)) == 1
	case c.EmptyPassword:
		return e.FP == ""
	}
	return true
}

// rememberErase handles git's erase for remembered credentials: each one
// it names is forgotten (git's contract for a store: a rejected password
// is gone). It reports false when it names none.
func (a *Agent) rememberErase(s *vault.Snapshot, c *client.Credential, ev audit.Event) (Outcome, bool) {
	var gone []*vault.RememberedEntry
	for _, e := range s.Remembered {
		if matchesErase(e, c) {
			gone = append(gone, e)
		}
	}
	if len(gone) == 0 {
		return Outcome{}, false
	}
	slices.SortFunc(gone, func(x, y *vault.RememberedEntry) int { return strings.Compare(x.Name, y.Name) })
	names := make([]string, len(gone))
	for i, e := range gone {
		names[i] = e.Name
	}
	ev.Decision, ev.Token = audit.Erased, names[0]
	if len(gone) == 1 {
		ev.FP = gone[0].FP
	}
	ev.Reason = "git rejected it; remembered credential forgotten: " + strings.Join(names, ", ")
	return Outcome{Resp: &client.Response{}, Event: ev, Change: &Change{
		Commit: func() error { return a.vault.RemoveRemembered(gone...) },
		Failed: a.keychainFailed("keychain remove", names[0], "keychain remove failed; the credential is still remembered", ""),
		Suffix: "; nothing was forgotten",
	}, After: func(*client.Response) { a.changed() }}, true
}

// pickRemembered finds the remembered credentials for git's protocol,
// host, path and username: the newest one whose password is live, the
// newest expired one with a refresh token, and the expired ones without.
func pickRemembered(s *vault.Snapshot, c *client.Credential, now time.Time) (live, refreshable *vault.RememberedEntry, expired []*vault.RememberedEntry) {
	for _, e := range s.Remembered {
		k := e.Meta.RememberedKey
		if k.Protocol != c.Protocol || k.Host != c.Host || k.Path != c.Path {
			continue
		}
		if (c.Username != "" || c.EmptyUsername) && k.Username != c.Username {
			continue
		}
		newer := func(cur *vault.RememberedEntry) bool {
			return cur == nil || e.Meta.Stored.After(cur.Meta.Stored) || e.Meta.Stored.Equal(cur.Meta.Stored) && e.Name < cur.Name
		}
		switch {
		case e.Meta.Expires.IsZero() || e.Meta.Expires.After(now):
			if newer(live) {
				live = e
			}
		case e.HasRefresh:
			if newer(refreshable) {
				refreshable = e
			}
		default:
			expired = append(expired, e)
		}
	}
	return live, refreshable, expired
}

// rememberedWhich says which remembered credential would answer c, for
// keyfob which, "" when none would.
func (a *Agent) rememberedWhich(s *vault.Snapshot, c *client.Credential) string {
	if rememberable(c) != "" || !a.remembers(c) {
		return ""
	}
	live, refreshable, _ := pickRemembered(s, c, a.cfg.Now())
	switch {
	case live != nil:
		return live.Name
	case refreshable != nil:
		return refreshable.Name
	}
	return ""
}

// rememberedAnswer answers get from the remembered credentials, when no
// token does (resolveIn decides that). It reports false when none matches
// git's protocol, host, path and username; the caller then answers as it
// would have.
func (a *Agent) rememberedAnswer(s *vault.Snapshot, c *client.Credential, ev audit.Event) (Outcome, bool) {
	if rememberable(c) != "" || len(s.Remembered) == 0 || !a.remembers(c) {
		return Outcome{}, false
	}
	live, refreshable, expired := pickRemembered(s, c, a.cfg.Now())
	e := live
	if e == nil {
		e = refreshable
	}
	if e == nil {
		if len(expired) == 0 {
			return Outcome{}, false
		}
		// Expired, with nothing to refresh it: dropped, as git would
		// drop the password itself.
		names := make([]string, len(expired))
		for i, x := range expired {
			names[i] = x.Name
		}
		slices.Sort(names)
		ev.Decision, ev.Token = audit.NoMatch, names[0]
		ev.Reason = "remembered credential expired (password_expiry_utc); dropped: " + strings.Join(names, ", ")
		return Outcome{Resp: errResp(client.CodeNotFound, "no token for this remote", ""), Event: ev, Change: &Change{
			Commit: func() error { return a.vault.RemoveRemembered(expired...) },
			Failed: func(err error) (*client.Response, string) {
				if !errors.Is(err, vault.ErrChanged) {
					a.log.Error("keychain remove", zap.String("token", names[0]), zap.Error(err))
				}
				return errResp(client.CodeNotFound, "no token for this remote", ""), "expired; could not drop it"
			},
		}, After: func(*client.Response) { a.changed() }}, true
	}
	pass, refresh, ok := e.Secrets()
	if !ok {
		return Outcome{}, false
	}
	resp := &client.Response{Remembered: true, Username: e.Meta.Username, Token: e.Name, Reason: "remembered", Refresh: refresh}
	ev.Decision, ev.Token, ev.FP = audit.Granted, e.Name, e.FP
	if e == live {
		resp.Secret = pass
		if !e.Meta.Expires.IsZero() {
			resp.Expiry = e.Meta.Expires.Unix()
		}
		ev.Reason = fmt.Sprintf("remembered credential, stored %s", e.Meta.Stored.UTC().Format(time.RFC3339))
	} else {
		pass.Wipe()
		resp.PasswordExpired = true
		ev.Reason = "remembered password expired; its refresh token goes to git for the next helper"
	}
	return Outcome{Resp: resp, Event: ev}, true
}

// rememberedInfo describes e for keyfob list. A remembered password may be
// one a person chose, so none of it shows, not even the last four
// characters a token shows: the fingerprint tells two apart.
func rememberedInfo(e *vault.RememberedEntry, now time.Time) client.TokenInfo {
	state := "remembered"
	if !e.Meta.Expires.IsZero() && !e.Meta.Expires.After(now) {
		state = "remembered, expired"
	}
	return client.TokenInfo{
		Name: e.Name, Masked: "****", Fingerprint: e.FP, Hosts: []string{e.Meta.Host}, Username: e.Meta.Username,
		State: state, Kind: "remembered", Created: e.Meta.Stored, Expires: e.Meta.Expires,
	}
}

// isKeyfobSecret reports whether secret is one of keyfob's own: a token
// held, or an installation token minted and cached.
func (a *Agent) isKeyfobSecret(s *vault.Snapshot, secret client.Secret) bool {
	fp := secret.Fingerprint()
	if fp == "" {
		return false
	}
	for _, e := range s.Tokens {
		if subtle.ConstantTimeCompare([]byte(e.FP), []byte(fp)) == 1 {
			return true
		}
	}
	found := false
	for _, t := range a.minter().Cached(nil) {
		if t.Fingerprint() == fp {
			found = true
		}
		t.Secret.Wipe()
	}
	return found
}
