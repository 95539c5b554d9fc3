// Package agent answers requests for the unlocked tokens: it dispatches each
// op to a handler, and one wrapper audits every decision before its answer
// leaves and every change before it is made. The tokens themselves are held
// by daemon/vault.
package agent

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/vault"
)

// DefaultUsername is what git gets as the username of a token added without
// one; GitHub accepts any username with a token.
const DefaultUsername = vault.DefaultUsername

// Config configures an Agent.
type Config struct {
	Backend string
	// Dir holds the file backend's items.
	Dir string
	// PassDir is the pass backend's store, "" for pass's default.
	PassDir string
	// Passphrase unlocks the file backend at start (KEYFOB_FILE_PASSPHRASE).
	Passphrase client.Secret
	Audit      *audit.Log
	Log        *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Socket and ConfigPath are reported by status.
	Socket     string
	ConfigPath string
	// Routes send repositories to tokens; nil means none.
	Routes *policy.Table
	// RotateEvery is the default rotation period.
	RotateEvery time.Duration
	// WarnWithin is the expiry warning window.
	WarnWithin time.Duration
	// GitHubAPI overrides github.com's API base (KEYFOB_GITHUB_API).
	GitHubAPI string
	// GitHubURL overrides github.com's web base (KEYFOB_GITHUB_URL).
	GitHubURL string
	// GitHub are the Enterprise hosts at start ([[github]] in the
	// config); SetGitHubHosts replaces them on a reload.
	GitHub []github.Host
	// Notify, if set, shows a desktop notification.
	Notify func(summary, body string) error
	// AutoLock locks the agent after this long without a request that
	// uses or changes a token; 0 never locks (RunAutoLock).
	AutoLock time.Duration
	// OnChange, if set, is called with Summary after every unlock, lock
	// and change in the number of tokens (sd_notify STATUS=).
	OnChange func(summary string)
	// KeychainPoll is how often a locked keychain (the login keyring) is
	// checked for an unlock; 0 means DefaultKeychainPoll.
	KeychainPoll time.Duration
	// WrapKeychain, if set, wraps the keychain each unlock opens. Tests
	// use it to make the keychain fail or the process die mid-write.
	WrapKeychain func(vault.Keychain) vault.Keychain
}

// Agent answers requests over the vault.
type Agent struct {
	cfg   Config
	log   *zap.Logger
	vault *vault.Vault

	routes atomic.Pointer[routeSet]
	// sso holds the organizations that ask tokens for SAML SSO
	// authorization (sso.go); ownerCheckMu runs one owner check at a
	// time.
	sso          ssoTable
	ownerCheckMu sync.Mutex
	// enterprise is the [[github]] hosts in force (SetGitHubHosts).
	enterprise atomic.Pointer[[]github.Host]

	// life ends at Shutdown; background work (re-validations) runs
	// under it. bg counts that work.
	life context.Context
	stop context.CancelFunc
	bg   sync.WaitGroup

	// mint holds the GitHub Apps' cached installation tokens.
	mint      mintState
	pathHints pathHints
	// lastActive is when a request last used or changed a token (Unix
	// nanoseconds), for AutoLock.
	lastActive atomic.Int64
	// waiting is set while waitKeychain polls a locked keychain.
	waiting atomic.Bool
	// lockNote is why the keychain could not be read, when it could not
	// (keychain.go).
	lockNote atomic.Pointer[lockNote]
	// refresh refreshes the user tokens from keyfob login (refresh.go).
	refresh refresher
}

// routeSet is the routes in force, swapped whole on a reload.
type routeSet struct {
	routes    *policy.Table
	configErr string
}

// New returns a locked agent. Call Unlock (or Start) to read the keychain.
func New(cfg Config) *Agent {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.RotateEvery == 0 {
		cfg.RotateEvery = 30 * 24 * time.Hour
	}
	if cfg.KeychainPoll <= 0 {
		cfg.KeychainPoll = DefaultKeychainPoll
	}
	if cfg.WarnWithin == 0 {
		cfg.WarnWithin = 7 * 24 * time.Hour
	}
	a := &Agent{cfg: cfg, log: cfg.Log, vault: vault.New("")}
	a.life, a.stop = context.WithCancel(context.Background())
	a.routes.Store(&routeSet{routes: cfg.Routes})
	a.enterprise.Store(&cfg.GitHub)
	return a
}

// SetGitHubHosts replaces the Enterprise hosts (config reload). Tokens
// for a host that becomes a GitHub are checked at their next validation.
func (a *Agent) SetGitHubHosts(hosts []github.Host) {
	hosts = slices.Clone(hosts)
	a.enterprise.Store(&hosts)
}

// githubHosts returns the GitHub hosts in force: github.com with the
// overrides, the configured Enterprise hosts and GHE.com.
func (a *Agent) githubHosts() *github.Hosts {
	return github.NewHosts(a.cfg.GitHubAPI, a.cfg.GitHubURL, *a.enterprise.Load())
}

// SetRoutes replaces the routes (config reload). The secrets stay.
func (a *Agent) SetRoutes(routes *policy.Table, configErr string) {
	a.routes.Store(&routeSet{routes: routes, configErr: configErr})
	for _, p := range a.routeProblems(a.vault.Snapshot()) {
		a.log.Warn("route cannot answer", zap.String("problem", p))
	}
	a.startOwnerChecks()
}

func (a *Agent) currentRoutes() *policy.Table { return a.routes.Load().routes }

func errResp(code, msg, hint string) *client.Response {
	return &client.Response{Code: code, Error: msg, Hint: hint}
}

func (a *Agent) credRequest(c *client.Credential) policy.Request {
	if c == nil {
		return policy.Request{Now: a.cfg.Now()}
	}
	return policy.Request{Protocol: c.Protocol, Host: c.Host, Path: c.Path, Username: c.Username, EmptyUsername: c.EmptyUsername, Now: a.cfg.Now()}
}

// clip cuts s to n bytes for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func pathSuffix(p string) string {
	if p == "" {
		return ""
	}
	return "/" + p
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkValue refuses a value that would reach git's stream with a control
// character in it: CR, LF or NUL would let it inject an attribute.
func checkValue(what, v string) error {
	if len(v) > 255 {
		return fmt.Errorf("invalid %s: longer than 255 bytes", what)
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("invalid %s %q: it holds a control character (CR, LF, NUL or another)", what, v)
		}
	}
	return nil
}

func checkHost(h string) error {
	if h == "" || len(h) > 255 {
		return fmt.Errorf("invalid host %q", clip(h, 64))
	}
	for _, r := range h {
		if r <= ' ' || r == '/' || r == 0x7f {
			return fmt.Errorf("invalid host %q: want host[:port] with no scheme or path", h)
		}
	}
	return nil
}
