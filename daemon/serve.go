package daemon

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/keyfob/keyfob/daemon/harden"
	"github.com/keyfob/keyfob/daemon/notify"
)

// Serve is Run for the keyfob serve process: it logs to stderr at level
// (the standard log, which the keyring library uses, included), hardens
// the process, stops on SIGTERM or SIGINT, and reloads on SIGHUP. o.Log
// and o.Reload are its own.
func Serve(stderr io.Writer, level zapcore.Level, o Options) error {
	log := notify.Logger(stderr, level)
	defer log.Sync()
	undo := zap.RedirectStdLog(log.Named("keyring"))
	defer undo()
	if err := harden.Apply(); err != nil {
		log.Warn("hardening", zap.Error(err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	o.Log, o.Reload = log, hup
	return Run(ctx, o)
}
