package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/notify"
)

// autoLockEnv sets serve's --auto-lock default.
const autoLockEnv = "KEYFOB_AUTO_LOCK"

// autoLockDefault reads KEYFOB_AUTO_LOCK: a duration such as 15m, or empty
// or 0 for never.
func autoLockDefault() (time.Duration, error) {
	v := os.Getenv(autoLockEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, usageError{fmt.Sprintf("%s=%q: want a duration such as 15m, or 0 for never", autoLockEnv, v)}
	}
	return d, nil
}

// statusNotifier returns an agent.Config.OnChange that puts the agent's
// summary in the service manager's status line.
func statusNotifier(log *zap.Logger) func(string) {
	return func(summary string) {
		if err := notify.Status(summary); err != nil {
			log.Warn("service manager status", zap.Error(err))
		}
	}
}

// startSession tells the service manager that a serves, pings its
// watchdog, runs auto-lock, and says STOPPING=1 as soon as ctx ends (on
// SIGTERM). The returned function waits for all of that to finish.
func startSession(ctx context.Context, a *agent.Agent, log *zap.Logger) (wait func()) {
	if err := notify.Ready(a.Summary()); err != nil {
		log.Warn("service manager readiness", zap.Error(err))
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		<-ctx.Done()
		if err := notify.Stopping(); err != nil {
			log.Warn("service manager stopping", zap.Error(err))
		}
	})
	interval, err := notify.WatchdogInterval()
	if err != nil {
		log.Warn("watchdog", zap.Error(err))
	}
	if interval > 0 {
		log.Info("watchdog", zap.Duration("ping_every", interval))
		wg.Go(func() {
			// Summary takes the agent's lock: a wedged agent stops the
			// pings, and the service manager restarts it.
			healthy := func() bool { _ = a.Summary(); return true }
			if err := notify.Watchdog(ctx, interval, healthy); err != nil {
				log.Warn("watchdog", zap.Error(err))
			}
		})
	}
	wg.Go(func() { a.RunAutoLock(ctx) })
	return wg.Wait
}
