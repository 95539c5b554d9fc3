package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/config"
)

// watchConfig loads the config into a and keeps it current: on changes to
// the file and on SIGHUP. The returned function stops the watcher and waits
// for it.
func watchConfig(a *agent.Agent, path string, log *zap.Logger) (stop func()) {
	w := &config.Watcher{Path: path, Set: a.SetRoutes, Log: log}
	_ = w.Load() // a refused file is logged and shown in status
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx, hup); err != nil {
			log.Warn("config is not watched; SIGHUP still reloads it", zap.Error(err))
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
					_ = w.Load()
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
	}
}
