package daemon

import (
	"context"
	"os"
	"path/filepath"
	"sync"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/config"
	"github.com/keyfob/keyfob/daemon/notify"
)

// grantDir holds the grants' records and own directories, beside the
// agent's socket.
func grantDir(socket string) string { return filepath.Join(filepath.Dir(socket), "grants") }

// statusNotifier returns an agent.Config.OnChange that puts the agent's
// summary in the service manager's status line.
func statusNotifier(log *zap.Logger) func(string) {
	return func(summary string) {
		if err := notify.Status(summary); err != nil {
			log.Warn("service manager status", zap.Error(err))
		}
	}
}

// reopenAudit reopens alog on every signal from hup (logrotate renames the
// file, then sends SIGHUP) and passes the signal on to the config watcher
// on the returned channel, until ctx ends.
func reopenAudit(ctx context.Context, hup <-chan os.Signal, alog *audit.Log, log *zap.Logger) (<-chan os.Signal, func()) {
	out := make(chan os.Signal, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-hup:
				if err := alog.Reopen(); err != nil {
					log.Error("reopen the audit log; hand-outs stop until it can be written", zap.Error(err))
				} else {
					log.Info("audit log reopened", zap.String("path", alog.Path()))
				}
				select {
				case out <- sig:
				default: // a reload is already pending
				}
			}
		}
	})
	return out, wg.Wait
}

// startSession tells the service manager that a serves, pings its
// watchdog, runs auto-lock, and says STOPPING=1 as soon as ctx ends. The
// returned function waits for all of that to finish.
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

// watchConfig loads the config into a and alog (its rotation) and keeps it
// current: on changes to the file and whenever reload receives. The
// returned function stops the watcher and waits for it.
func watchConfig(a *agent.Agent, alog *audit.Log, path string, reload <-chan os.Signal, log *zap.Logger) (stop func()) {
	w := &config.Watcher{Path: path, Set: a.SetRoutes, SetGitHub: a.SetGitHubHosts, Log: log, Loaded: func(c *config.Config, err error) {
		if err == nil {
			alog.SetRotation(c.Audit.MaxSize, c.Audit.Keep)
		}
	}}
	_ = w.Load() // a refused file is logged and shown in status
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx, reload); err != nil {
			log.Warn("config is not watched; SIGHUP still reloads it", zap.Error(err))
			for {
				select {
				case <-ctx.Done():
					return
				case <-reload:
					_ = w.Load()
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
