package agent

import (
	"context"
	"time"
)

// active records that a request was handed a secret or made a change
// (Answer); polling reads do not count.
func (a *Agent) active() { a.lastActive.Store(a.cfg.Now().UnixNano()) }

// changed reports the agent's summary to OnChange.
func (a *Agent) changed() {
	if a.cfg.OnChange != nil {
		a.cfg.OnChange(a.Summary())
	}
}

// RunAutoLock locks the agent once it has been idle for Config.AutoLock,
// checking a few times per period, until ctx ends. Only a hand-out or a
// change counts as use: ping, status, list, which (and so doctor and
// grants, which use them) do not. It returns at once when AutoLock is 0.
func (a *Agent) RunAutoLock(ctx context.Context) {
	if a.cfg.AutoLock <= 0 {
		return
	}
	every := min(max(a.cfg.AutoLock/4, time.Second), time.Minute)
	tick(ctx, every, func() { a.lockIfIdle() })
}

// lockIfIdle locks an unlocked agent that has been idle for AutoLock and
// reports whether it did.
func (a *Agent) lockIfIdle() bool {
	if a.cfg.AutoLock <= 0 {
		return false
	}
	locked := a.vault.Snapshot().Locked()
	idle := a.cfg.Now().Sub(time.Unix(0, a.lastActive.Load()))
	if locked || idle < a.cfg.AutoLock {
		return false
	}
	a.lockWith(context.Background(), "locked after "+a.cfg.AutoLock.String()+" idle")
	return true
}
