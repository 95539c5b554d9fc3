// Package daemon runs the agent: it opens the listener (or takes the one
// systemd hands over), unlocks the agent, serves it and its grants, keeps
// the config current, runs the token checks and auto-lock, and talks to
// the service manager (sd_notify, watchdog). It keeps one agent per
// keychain. Run stops when its context ends, and reopens the audit log and
// reloads the config on Options.Reload; Serve is Run for the keyfob serve
// process, with its log, hardening and signals.
package daemon

import (
	"context"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/grant"
	"github.com/keyfob/keyfob/daemon/listen"
	"github.com/keyfob/keyfob/daemon/server"
	"github.com/keyfob/keyfob/daemon/vault"
)

// ErrRunning means another agent answers on the socket.
var ErrRunning = listen.ErrRunning

// DefaultCheckEvery is how often Run checks the tokens for rotation and
// expiry.
const DefaultCheckEvery = time.Hour

// Options configure Run. Empty paths mean the defaults that client knows.
type Options struct {
	// Backend is the keychain backend (store.Backends).
	Backend string
	// Passphrase unlocks the file backend at start; zero waits for
	// keyfob unlock.
	Passphrase client.Secret
	// PassDir is the pass backend's store, "" for pass's default.
	PassDir string
	// Log is the daemon's log; nil logs nothing.
	Log *zap.Logger
	// Socket is where to listen when systemd hands no socket over.
	Socket string
	// AuditPath, ConfigPath and KeyringDir are the audit log, the config
	// file and the file backend's directory.
	AuditPath, ConfigPath, KeyringDir string
	// StateDir holds the lock that keeps one agent per keychain.
	StateDir string
	// AutoLock locks the agent after this long without a token used; 0
	// never.
	AutoLock time.Duration
	// GitHubAPI and GitHubURL override github.com's API and web bases
	// (KEYFOB_GITHUB_API, KEYFOB_GITHUB_URL).
	GitHubAPI, GitHubURL string
	// Notify, if set, shows a desktop notification.
	Notify func(summary, body string) error
	// Reload reopens the audit log and reloads the config whenever it
	// receives (SIGHUP).
	Reload <-chan os.Signal
	// CheckEvery is how often the tokens are checked; 0 means
	// DefaultCheckEvery.
	CheckEvery time.Duration
	// WrapKeychain, when set, wraps the keychain the agent opens (tests:
	// a keychain that kills the process mid-write).
	WrapKeychain func(vault.Keychain) vault.Keychain
}

// stopBudget bounds agent.Shutdown: the unit's TimeoutStopSec is 10 s, and
// what comes before it (the last answers, the grants' ends) takes little.
const stopBudget = 8 * time.Second

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Socket == "" {
		o.Socket = client.SocketPath()
	}
	if o.AuditPath == "" {
		o.AuditPath = client.AuditPath()
	}
	if o.ConfigPath == "" {
		o.ConfigPath = client.ConfigPath()
	}
	if o.KeyringDir == "" {
		o.KeyringDir = client.KeyringDir()
	}
	if o.StateDir == "" {
		o.StateDir = client.StateDir()
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = DefaultCheckEvery
	}
}

// Run serves the agent until ctx ends or the listener fails. It returns
// only after every goroutine it started has ended, the grants are gone and
// the agent holds no secret. An agent that cannot unlock at start serves
// locked. A live agent on the socket is ErrRunning; another agent on the
// same keychain, whatever its socket, is ErrKeychainBusy.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	log := o.Log
	socket := o.Socket
	l, err := listen.Activated("agent")
	if err != nil {
		return err
	}
	if l != nil {
		socket = l.Addr().String()
	}
	kl, err := lockKeychain(&o, socket)
	if err != nil {
		if l != nil {
			l.Close()
		}
		return err
	}
	defer kl.release()
	if l == nil {
		if l, err = listen.Unix(socket, listen.Options{}); err != nil {
			return err
		}
	}

	alog, err := audit.Open(o.AuditPath)
	if err != nil {
		l.Close()
		return err
	}
	defer alog.Close()

	a := agent.New(agent.Config{
		Backend:    o.Backend,
		Dir:        o.KeyringDir,
		PassDir:    o.PassDir,
		Passphrase: o.Passphrase,
		Audit:      alog,
		Log:        log,
		Socket:     socket,
		ConfigPath: o.ConfigPath,
		AutoLock:   o.AutoLock,
		OnChange:   statusNotifier(log),
		GitHubAPI:  o.GitHubAPI,
		GitHubURL:  o.GitHubURL,
		Notify:     o.Notify,

		WrapKeychain: o.WrapKeychain,
	})
	if err := a.Start(); err != nil {
		log.Warn("agent starts locked", zap.Error(err))
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	reload, endReopen := reopenAudit(ctx, o.Reload, alog, log)
	stopConfig := watchConfig(a, alog, o.ConfigPath, reload, log)

	// Grants are in memory only: they end, and their sockets and files go,
	// when the agent stops (docs/sandboxes.md).
	grants := grant.New(grant.Config{Agent: a, Log: log, Dir: grantDir(socket)})
	// ReleaseIdle: an idle agent gives back what a burst of requests
	// grew (docs/benchmarks.md measures idle RSS).
	srv := &server.Server{Handler: grants, Log: log, ReleaseIdle: 2 * time.Second}
	log.Info("serving", zap.String("socket", socket), zap.String("backend", o.Backend), zap.String("state", a.Summary()))
	endSession := startSession(ctx, a, log)
	var checks sync.WaitGroup
	checks.Go(func() { a.RunChecks(ctx, o.CheckEvery) })
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
	endReopen()
	checks.Wait()
	stopConfig()
	sctx, cancel := context.WithTimeout(context.Background(), stopBudget)
	defer cancel()
	a.Shutdown(sctx)
	log.Info("stopped")
	return err
}
