package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/desktop"
	"github.com/keyfob/keyfob/daemon/grant"
	"github.com/keyfob/keyfob/daemon/harden"
	"github.com/keyfob/keyfob/daemon/listen"
	"github.com/keyfob/keyfob/daemon/notify"
	"github.com/keyfob/keyfob/daemon/server"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

func cmdServe(e *env, args []string) error {
	fs := newFlags("serve", e)
	backend := fs.String("backend", os.Getenv("KEYFOB_BACKEND"), "keychain backend: "+fmt.Sprint(store.Backends))
	level := fs.String("log-level", envOr("KEYFOB_LOG_LEVEL", "info"), "debug, info, warn or error")
	autoLockDef, err := autoLockDefault()
	if err != nil {
		return err
	}
	autoLock := fs.Duration("auto-lock", autoLockDef, "lock after this long without a token used (15m); 0 never ($"+autoLockEnv+")")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *backend == "" {
		*backend = store.DefaultBackend()
	}
	var lvl zapcore.Level
	if err := lvl.Set(*level); err != nil {
		return usageError{"--log-level: " + err.Error()}
	}
	log := newLogger(e, lvl)
	defer log.Sync()
	undo := zap.RedirectStdLog(log.Named("keyring"))
	defer undo()

	if err := harden.Apply(); err != nil {
		log.Warn("hardening", zap.Error(err))
	}

	socket := client.SocketPath()
	l, err := listen.Activated("agent")
	if err != nil {
		return err
	}
	if l == nil {
		l, err = listen.Unix(socket, listen.Options{})
		if errors.Is(err, listen.ErrRunning) {
			return hinted{err, "keyfob status talks to it; stop it first to start another"}
		}
		if err != nil {
			return err
		}
	} else {
		socket = l.Addr().String()
	}

	alog, err := audit.Open(client.AuditPath())
	if err != nil {
		l.Close()
		return err
	}
	defer alog.Close()

	pass := client.NewSecret(os.Getenv("KEYFOB_FILE_PASSPHRASE"))
	os.Unsetenv("KEYFOB_FILE_PASSPHRASE")
	a := agent.New(agent.Config{
		Backend:    *backend,
		Dir:        filepath.Join(client.StateDir(), "keyring"),
		PassDir:    os.Getenv("PASSWORD_STORE_DIR"),
		Passphrase: pass,
		Audit:      alog,
		Log:        log,
		Socket:     socket,
		ConfigPath: client.ConfigPath(),
		AutoLock:   *autoLock,
		OnChange:   statusNotifier(log),
		GitHubAPI:  os.Getenv("KEYFOB_GITHUB_API"),
		Notify:     desktop.Notify,

		WrapKeychain: wrapKeychain,
	})
	if err := a.Start(); err != nil {
		log.Warn("agent starts locked", zap.Error(err))
	}
	stopConfig := watchConfig(a, client.ConfigPath(), log)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Grants are in memory only: they end, and their sockets and files go,
	// when the agent stops (docs/sandboxes.md).
	grants := grant.New(grant.Config{Agent: a, Log: log, Dir: filepath.Join(filepath.Dir(socket), "grants")})
	srv := &server.Server{Handler: grants, Log: log}
	log.Info("serving", zap.String("socket", socket), zap.String("backend", *backend), zap.String("state", a.Summary()))
	endSession := startSession(ctx, a, log)
	go a.RunChecks(ctx, time.Hour)
	// The stop, in order (agent.Shutdown says more), inside the unit's
	// TimeoutStopSec (10 s, contrib/systemd/keyfob.service): stop
	// accepting and finish the requests in flight (Serve returns once they
	// are answered; their context ended with the signal), end the grants,
	// then cancel background work, revoke the App tokens and lock, within
	// stopBudget.
	err = srv.Serve(ctx, l)
	stop()
	grants.Close()
	endSession()
	stopConfig()
	sctx, cancel := context.WithTimeout(context.Background(), stopBudget)
	defer cancel()
	a.Shutdown(sctx)
	log.Info("stopped")
	return err
}

// stopBudget bounds agent.Shutdown: the unit's TimeoutStopSec is 10 s, and
// what comes before it (the last answers, the grants' ends) takes little.
const stopBudget = 8 * time.Second

// wrapKeychain, when set, wraps the keychain the agent opens. Only tests
// set it (script_test.go: a keychain that kills the agent mid-write).
var wrapKeychain func(vault.Keychain) vault.Keychain

func newLogger(e *env, lvl zapcore.Level) *zap.Logger {
	if e.stderr == os.Stderr && notify.StderrIsJournal() {
		return zap.New(notify.JournalCore(lvl))
	}
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewConsoleEncoder(cfg), zapcore.AddSync(e.stderr), lvl)
	return zap.New(core)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
