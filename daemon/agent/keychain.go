package agent

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/store"
)

// The keychain's own state, as the agent reports it. A locked keychain
// (store.ErrKeychainLocked: the login keyring, the pass store's gpg key,
// the macOS login keychain) is not an empty one: the agent says so in the
// backend's fixed words, serves nothing, and polls until it unlocks. A
// keychain that cannot be read (no session bus, no pass store, a directory
// it may not read) leaves the agent locked too, and its lock reason
// carries the backend's own words, cleaned and bounded (store.Describe),
// with one line saying how to fix it. That reason is the keychain's state,
// not a request's failure: status shows it to a peer of the agent's own
// uid, and the locked answers of the agent's socket carry it, so the
// helper's warning names the cause. A grant's socket, a sandbox, gets only
// the fixed head of it (docs/security.md).

// lockNote is why the keychain could not be read: reason is the vault's
// lock reason, head its fixed words (for the audit line and a grant), fix
// the line saying how to fix it.
type lockNote struct {
	reason, head, fix string
}

// keychainUnreadable records why opening the keychain failed with err, as the
// vault's lock reason.
func (a *Agent) keychainUnreadable(err error) {
	b := a.cfg.Backend
	switch {
	case errors.Is(err, store.ErrKeychainLocked):
		// Locked is not empty: say so and serve nothing.
		a.vault.SetLockErr(store.LockedWords(b))
	case errors.Is(err, store.ErrBadPassphrase):
		a.vault.SetLockErr("wrong passphrase")
	default:
		words, fix := store.Describe(b, err)
		n := &lockNote{head: "the " + b + " keychain cannot be read", fix: fix}
		n.reason = n.head + ": " + words
		a.lockNote.Store(n)
		a.vault.SetLockErr(n.reason)
	}
}

// note returns the lockNote of lockErr, nil when lockErr is not one.
func (a *Agent) note(lockErr string) *lockNote {
	if n := a.lockNote.Load(); n != nil && n.reason == lockErr {
		return n
	}
	return nil
}

// keychainLocked reports whether lockErr says the keychain itself is
// locked.
func (a *Agent) keychainLocked(lockErr string) bool {
	w := store.LockedWords(a.cfg.Backend)
	return w != "" && lockErr == w
}

// lockReason is lockErr for an audit line: keyfob's words only.
func (a *Agent) lockReason(lockErr string) string {
	if n := a.note(lockErr); n != nil {
		return n.head
	}
	return lockErr
}

// lockedResp answers a request while the vault is locked.
func (a *Agent) lockedResp(lockErr string) *client.Response { return a.lockedAnswer(lockErr, false) }

// lockedAnswer answers a request while the vault is locked with lockErr;
// grant says the request came through a grant's socket.
func (a *Agent) lockedAnswer(lockErr string, grant bool) *client.Response {
	switch n := a.note(lockErr); {
	case a.keychainLocked(lockErr):
		return errResp(client.CodeLocked, "locked: "+lockErr, store.LockedFix(a.cfg.Backend))
	case n != nil && grant:
		return errResp(client.CodeLocked, "locked: "+n.head, "keyfob status, outside the sandbox, says why")
	case n != nil:
		return errResp(client.CodeLocked, "locked: "+lockErr, n.fix)
	}
	return errResp(client.CodeLocked, "keyfob is locked ("+lockErr+")", "run keyfob unlock")
}

// lockHint is the fix status shows beside lockErr, "" when it has none
// but keyfob unlock.
func (a *Agent) lockHint(lockErr string) string {
	if a.keychainLocked(lockErr) {
		return store.LockedFix(a.cfg.Backend)
	}
	if n := a.note(lockErr); n != nil {
		return n.fix
	}
	return ""
}

// DefaultKeychainPoll is how often a locked keychain is checked for an
// unlock.
const DefaultKeychainPoll = 2 * time.Second

// waitKeychain polls a locked keychain (without prompting again) until it
// unlocks, then unlocks the agent: the user logged in, unlocked the login
// keyring in the keyring app, or gave gpg-agent the key's passphrase. It
// ends when the agent stops, or is unlocked or locked for another reason
// meanwhile. At most one runs.
func (a *Agent) waitKeychain() {
	if !a.waiting.CompareAndSwap(false, true) {
		return
	}
	opts := store.Options{Backend: a.cfg.Backend, Dir: a.cfg.Dir, PassDir: a.cfg.PassDir}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		defer a.waiting.Store(false)
		t := time.NewTicker(a.cfg.KeychainPoll)
		defer t.Stop()
		for {
			select {
			case <-a.life.Done():
				return
			case <-t.C:
			}
			if s := a.vault.Snapshot(); !s.Locked() || !a.keychainLocked(s.LockErr) {
				return
			}
			locked, err := store.KeychainLocked(opts)
			if err != nil {
				a.log.Debug("keychain lock state", zap.Error(err))
				continue
			}
			if locked {
				continue
			}
			if err := a.open(client.Secret{}); err == nil {
				a.log.Info("the keychain unlocked; tokens loaded")
				return
			} else if !errors.Is(err, store.ErrKeychainLocked) {
				a.log.Warn("the keychain unlocked but cannot be read", zap.Error(err))
				return
			}
		}
	}()
}
