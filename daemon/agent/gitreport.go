package agent

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/ghapp"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/vault"
)

// gitReport handles git's store and erase. erase never deletes a token: it
// marks it suspect. Either acts on a token only when git's host is in its
// allowlist, and git's username and password are the token's. A credential
// that is not keyfob's is kept only for a host [[remember]] names, and
// erase forgets a remembered one (remember.go); anything else changes
// nothing.
func (a *Agent) gitReport(ctx context.Context, peer peercred.Cred, req *client.Request) Outcome {
	ev := audit.Event{Op: req.Op}
	if req.Cred == nil {
		ev.Decision, ev.Reason = audit.BadRequest, "no credential"
		return Outcome{Resp: errResp(client.CodeBadRequest, req.Op+" needs a credential", ""), Event: ev}
	}
	c := req.Cred
	ev.Protocol, ev.Host, ev.Path, ev.Username = c.Protocol, c.Host, c.Path, c.Username
	s := a.vault.Snapshot()
	e := reported(s, c)
	if e == nil {
		if o, ok := a.mintedReport(s, req, ev); ok {
			return o
		}
	}
	if e == nil && !s.Locked() {
		// Not a token of keyfob's: a credential git got elsewhere,
		// remembered for a host [[remember]] names (remember.go).
		if req.Op == client.OpStore {
			return a.rememberStore(s, req, ev)
		}
		if o, ok := a.rememberErase(s, c, ev); ok {
			return o
		}
	}
	resp := &client.Response{}
	if req.Op == client.OpStore {
		ev.Decision = audit.Stored
		if e == nil {
			ev.Reason = "not a keyfob token for this host and username; keyfob does not keep credentials from git"
			return Outcome{Resp: resp, Event: ev}
		}
		ev.Token, ev.FP = e.Name, e.FP
		ev.Reason = "git confirmed the token works"
		return Outcome{Resp: resp, Event: ev, Change: &Change{Commit: func() error {
			e.Suspect.Store(false)
			return nil
		}}}
	}
	ev.Decision = audit.Erased
	if e == nil {
		ev.Reason = "not a keyfob token for this host and username; nothing to do"
		return Outcome{Resp: resp, Event: ev}
	}
	ev.Token, ev.FP = e.Name, e.FP
	_, canCheck := a.revalidationAPI(e.Meta.Hosts, c.Host)
	ev.Reason = "git reported a rejection; token kept and marked suspect until re-validated"
	if !canCheck {
		ev.Reason = "git reported a rejection; no API can re-check the token, so it is kept in service and the rejection recorded"
	}
	resp.Warnings = []string{fmt.Sprintf("%s was rejected by %s%s; keyfob keeps it. If it was revoked or expired, run: keyfob rotate %s",
		e.Name, c.Host, pathSuffix(c.Path), e.Name)}
	// The mark is audited before it is made.
	return Outcome{Resp: resp, Event: ev, Change: &Change{Commit: func() error {
		if canCheck {
			e.Suspect.Store(true)
			a.startRevalidation(peer, e, c.Host, c.Path)
		} else {
			a.recordRejection(e, c.Host, c.Path)
		}
		return nil
	}}, After: func(*client.Response) {
		a.log.Warn("token rejected by remote", zap.String("token", e.Name), zap.String("host", c.Host), zap.String("path", c.Path))
	}}
}

// recordRejection keeps where and when git reported e rejected: in memory,
// and in the keychain item as well as it can.
func (a *Agent) recordRejection(e *vault.Entry, host, path string) {
	m := e.Meta
	m.LastRejected, m.RejectedAt = a.cfg.Now().UTC().Truncate(time.Second), host+pathSuffix(path)
	if _, err := a.vault.Note(e, m); err != nil {
		a.log.Error("keychain write", zap.String("token", e.Name), zap.Error(err))
	}
}

// reported returns the token git's store or erase is about: the one whose
// allowlist has git's host, whose username is git's, and whose secret has
// git's password fingerprint.
func reported(s *vault.Snapshot, c *client.Credential) *vault.Entry {
	if c.PasswordFP == "" || c.Username == "" || policy.CheckRequest(policy.Request{Protocol: c.Protocol, Host: c.Host, Path: c.Path, Username: c.Username}) != nil {
		return nil
	}
	if c.State != "" {
		// git 2.46+ sent back the state keyfob gave with the credential:
		// only the token it names may answer, and only if it is still
		// the secret that was served.
		name, fp, ok := client.ParseState(c.State)
		x := s.Tokens[name]
		if !ok || x == nil || fp != c.PasswordFP || x.Meta.Username != c.Username || !policy.HostAllowed(x.Meta.Hosts, c.Host) ||
			subtle.ConstantTimeCompare([]byte(x.FP), []byte(fp)) != 1 {
			return nil
		}
		return x
	}
	for _, x := range s.Tokens {
		if x.Meta.Username == c.Username && policy.HostAllowed(x.Meta.Hosts, c.Host) &&
			subtle.ConstantTimeCompare([]byte(x.FP), []byte(c.PasswordFP)) == 1 {
			return x
		}
	}
	return nil
}

// mintedReport handles git's store and erase for a minted token: store
// confirms it, erase drops it from the cache (and revokes it), so the next
// request mints a new one. It reports false when fp is not a cached token.
//
// Like a held token, a minted one is matched only when git's host is in
// its app's allowlist and git's username is the one keyfob gave.
func (a *Agent) mintedReport(s *vault.Snapshot, req *client.Request, ev audit.Event) (Outcome, bool) {
	c := req.Cred
	if c.PasswordFP == "" || c.Username != DefaultUsername {
		return Outcome{}, false
	}
	m := a.minter()
	var found *ghapp.Token
	for _, t := range m.Cached(nil) {
		ap := s.Apps[t.App]
		if found == nil && ap != nil && policy.HostAllowed(ap.Meta.Hosts, c.Host) && t.Fingerprint() == c.PasswordFP {
			found = &t
			continue
		}
		t.Secret.Wipe()
	}
	if found == nil {
		return Outcome{}, false
	}
	if c.State != "" {
		if name, fp, ok := client.ParseState(c.State); !ok || name != found.App || fp != c.PasswordFP {
			found.Secret.Wipe()
			return Outcome{}, false
		}
	}
	t := *found
	ev.Token, ev.FP, ev.Installation, ev.Scope = t.App, t.Fingerprint(), t.Installation, t.Scope.String()
	t.Secret.Wipe()
	if req.Op == client.OpStore {
		ev.Decision, ev.Reason = audit.Stored, "git confirmed the minted token works"
		return Outcome{Resp: &client.Response{}, Event: ev}, true
	}
	ev.Decision = audit.Erased
	ev.Reason = "git reported a rejection; the minted token is dropped and revoked, and the next request mints a new one"
	resp := &client.Response{}
	// Audited before the cache changes.
	return Outcome{Resp: resp, Event: ev, Change: &Change{Commit: func() error {
		t, ok := m.Forget(c.PasswordFP)
		if !ok {
			return nil
		}
		resp.Warnings = []string{fmt.Sprintf(
			"the token minted from app %s (%s) was rejected by %s%s; the next request mints a new one. If it keeps failing, check the app's permissions and the installation's repositories on GitHub",
			t.App, t.Scope, c.Host, pathSuffix(c.Path))}
		a.revokeLater(t, "rejected by "+c.Host+pathSuffix(c.Path))
		return nil
	}}}, true
}
