package agent

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// Start unlocks the keychain when that needs no passphrase from a client:
// every backend but file, and file when a passphrase came with the config.
// A failure leaves the agent locked and is reported, not fatal.
func (a *Agent) Start() error {
	if a.cfg.Backend == store.File && a.cfg.Passphrase.IsZero() {
		a.vault.SetLockErr("waiting for keyfob unlock")
		return nil
	}
	err := a.Unlock(a.cfg.Passphrase)
	// Used once: the store keeps its own copy until a lock, and after a
	// lock unlock must be given the passphrase again.
	a.cfg.Passphrase.Wipe()
	a.cfg.Passphrase = client.Secret{}
	return err
}

// Unlock opens the keychain and reads every keyfob item into memory. A
// locked keychain (store.ErrKeychainLocked) leaves the agent locked, saying
// so, and waiting for the keychain to unlock; one that cannot be read
// leaves it locked, saying why in the backend's words (keychain.go).
func (a *Agent) Unlock(pass client.Secret) error {
	err := a.open(pass)
	if errors.Is(err, store.ErrKeychainLocked) {
		a.waitKeychain()
	}
	return err
}

// open opens the keychain and loads it, once.
func (a *Agent) open(pass client.Secret) error {
	st, err := store.Open(store.Options{Backend: a.cfg.Backend, Dir: a.cfg.Dir, PassDir: a.cfg.PassDir, Passphrase: pass})
	if err == nil {
		var kc vault.Keychain = st
		if a.cfg.WrapKeychain != nil {
			kc = a.cfg.WrapKeychain(kc)
		}
		var got vault.Loaded
		if got, err = a.vault.Unlock(kc); err == nil {
			for _, b := range got.Skipped {
				a.log.Warn("skipping keychain item", zap.Error(b))
			}
			if got.AppsErr != nil {
				a.log.Warn("reading GitHub Apps from the keychain", zap.Error(got.AppsErr))
			}
			if got.RememberedErr != nil {
				a.log.Warn("reading remembered credentials from the keychain", zap.Error(got.RememberedErr))
			}
			a.log.Info("unlocked", zap.String("backend", a.cfg.Backend), zap.Int("tokens", got.Tokens), zap.Int("remembered", got.Remembered))
			a.active()
			a.changed()
			a.startOwnerChecks()
			a.startRefresher()
			a.bg.Add(1)
			go func() {
				defer a.bg.Done()
				a.Check()
			}()
			return nil
		}
		st.Close()
	}
	a.keychainUnreadable(err)
	return err
}

// unlock handles keyfob unlock: audited before it is made, so no audit
// line, no unlock.
func (a *Agent) unlock(_ context.Context, _ peercred.Cred, req *client.Request) Outcome {
	ev := audit.Event{Op: "unlock"}
	pass := req.Secret
	if a.cfg.Backend == store.File && pass.IsZero() {
		ev.Decision, ev.Reason = audit.Failed, "no passphrase"
		return Outcome{Resp: errResp(client.CodeBadRequest, "the file backend needs a passphrase", "run keyfob unlock in a terminal"), Event: ev}
	}
	ev.Decision, ev.Reason = audit.Changed, "unlocking"
	return Outcome{Resp: &client.Response{}, Event: ev,
		Change: &Change{
			Commit: func() error { return a.Unlock(pass) },
			Failed: func(err error) (*client.Response, string) {
				if errors.Is(err, store.ErrBadPassphrase) {
					return errResp(client.CodeDenied, "wrong passphrase", "try again"), "wrong passphrase"
				}
				return a.Internal(client.CodeUnavailable, "keychain unavailable", "keyfob doctor checks the backend; "+HintLog, err), err.Error()
			},
		},
		After: func(r *client.Response) { r.Status = a.status() }}
}

// lock handles keyfob lock. It is audited first; but a lock that cannot be
// audited still locks, since dropping the secrets is the safe direction.
func (a *Agent) lock(ctx context.Context, _ peercred.Cred, _ *client.Request) Outcome {
	const why = "locked by keyfob lock"
	return Outcome{Resp: &client.Response{}, Event: audit.Event{Op: "lock", Decision: audit.Changed, Reason: why},
		Change: &Change{Force: true, Commit: func() error {
			a.lockWith(ctx, why)
			return nil
		}}}
}

// Lock drops every secret from memory.
func (a *Agent) Lock() { a.lockWith(context.Background(), "locked by keyfob lock") }

// lockWith locks the vault (saving each token's last use, then wiping every
// secret and key) and revokes the cached App installation tokens.
func (a *Agent) lockWith(ctx context.Context, reason string) {
	_, saved := a.vault.Lock(reason)
	for _, err := range saved {
		a.log.Warn("record last use", zap.Error(err))
	}
	a.revokeApps(ctx, nil, reason)
	// Collect what the wipes left unreferenced and return free pages to
	// the kernel, which zero-fills them (docs/security.md).
	debug.FreeOSMemory()
	a.log.Info("locked", zap.String("reason", reason))
	a.changed()
}

// shutdownWait bounds how long Shutdown waits for background work once it
// is cancelled, leaving the rest of the stop budget to revocation.
const shutdownWait = 2 * time.Second

// Shutdown ends the agent's own work and drops every secret. keyfob serve
// stops in this order, all inside the unit's TimeoutStopSec (10 s,
// contrib/systemd/keyfob.service):
//
//  1. stop accepting, and finish the requests in flight: server.Serve
//     returns once each is answered, and their context ended with the
//     signal, so a validation or mint in one ends at once;
//  2. end the grants (their sockets and files go);
//  3. Shutdown: cancel background work (re-validations) and wait for it,
//     at most shutdownWait (2 s);
//  4. revoke the cached App installation tokens, at most revokeTimeout
//     (5 s) and within ctx;
//  5. lock: save each token's last use, overwrite every secret and key.
//
// ctx bounds steps 3 to 5; a stuck API cannot hold the stop past it.
func (a *Agent) Shutdown(ctx context.Context) {
	const why = "agent stopped"
	a.stop()
	done := make(chan struct{})
	go func() {
		a.bg.Wait()
		a.refresh.wg.Wait()
		close(done)
	}()
	wait, cancel := context.WithTimeout(ctx, shutdownWait)
	defer cancel()
	select {
	case <-done:
	case <-wait.Done():
		a.log.Warn("background work still running at shutdown; going on")
	}
	a.revokeApps(ctx, nil, why)
	a.lockWith(ctx, why)
}

// Wait waits for background work (re-validations) to finish.
func (a *Agent) Wait() { a.bg.Wait() }

// Field names of the agent's structured log lines about a token; in the
// journal they are TOKEN, STATE, REASON and FP.
const (
	LogToken  = "token"
	LogState  = "state"
	LogReason = "reason"
	LogFP     = "fp"
)

// Check logs a warning for every token that is due, expiring, expired,
// invalid or missing permissions, sends each as a desktop notification when
// Config.Notify is set, and returns the warnings.
func (a *Agent) Check() []string {
	now := a.cfg.Now()
	var out []string
	for _, e := range a.vault.Snapshot().Tokens {
		st, why := a.state(e, now)
		switch st {
		case StateOK, StateSuspect, StateUnverified:
			continue
		}
		w := fmt.Sprintf("token %s is %s (%s): run %s", e.Name, st, why, fixFor(e))
		out = append(out, w)
		// Structured, so journalctl TOKEN=NAME or STATE=expired finds it.
		a.log.Warn(w, zap.String(LogToken, e.Name), zap.String(LogState, st), zap.String(LogReason, why), zap.String(LogFP, e.FP))
	}
	for _, w := range out {
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
