// Package agent holds the unlocked tokens in memory and answers requests:
// it is the state and the dispatch behind the socket. Every decision it
// makes is audited before its answer leaves.
package agent

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/store"
)

// DefaultUsername is what git gets as the username of a token added without
// one; GitHub accepts any username with a token.
const DefaultUsername = "x-access-token"

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
	// Enterprise maps GitHub Enterprise hosts to their API base ("" for
	// https://HOST/api/v3).
	Enterprise map[string]string
	// Notify, if set, shows a desktop notification.
	Notify func(summary, body string) error
	// AutoLock locks the agent after this long without a request that
	// uses or changes a token; 0 never locks (RunAutoLock).
	AutoLock time.Duration
	// OnChange, if set, is called with Summary after every unlock, lock
	// and change in the number of tokens (sd_notify STATUS=).
	OnChange func(summary string)
}

type entry struct {
	tok      store.Token
	lastUsed atomic.Int64 // Unix nanoseconds
	lastWarn atomic.Int64
	suspect  atomic.Bool
	// revalidating is set while a re-validation runs: at most one per
	// token is in flight, however many rejections git reports.
	revalidating atomic.Bool
}

// Agent is the in-memory state of an unlocked (or locked) keychain.
type Agent struct {
	cfg Config
	log *zap.Logger

	mu sync.RWMutex
	st *store.Store
	// tokens is guarded by mu; after changing it, or a token's metadata,
	// call tokensChanged.
	tokens map[string]*entry
	// ptoks caches policyTokens between changes.
	ptoks     atomic.Pointer[[]policy.Token]
	lockErr   string
	routes    *policy.Table
	configErr string
	bg        sync.WaitGroup

	// apps are the GitHub Apps (apps.go), guarded by mu like tokens; mint
	// holds their cached installation tokens.
	apps map[string]*appEntry
	mint mintState

	pathHints pathHints
	// lastActive is when a request last used or changed a token (Unix
	// nanoseconds), for AutoLock.
	lastActive atomic.Int64
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
	if cfg.WarnWithin == 0 {
		cfg.WarnWithin = 7 * 24 * time.Hour
	}
	return &Agent{cfg: cfg, log: cfg.Log, routes: cfg.Routes}
}

// Start unlocks the keychain when that needs no passphrase from a client:
// every backend but file, and file when a passphrase came with the config.
// A failure leaves the agent locked and is reported, not fatal.
func (a *Agent) Start() error {
	if a.cfg.Backend == store.File && a.cfg.Passphrase.IsZero() {
		a.mu.Lock()
		a.lockErr = "waiting for keyfob unlock"
		a.mu.Unlock()
		return nil
	}
	err := a.Unlock(a.cfg.Passphrase)
	// Used once: the store keeps its own copy until a lock, and after a
	// lock unlock must be given the passphrase again.
	a.cfg.Passphrase.Wipe()
	a.cfg.Passphrase = client.Secret{}
	return err
}

// Unlock opens the keychain and reads every keyfob item into memory.
func (a *Agent) Unlock(pass client.Secret) error {
	st, err := store.Open(store.Options{Backend: a.cfg.Backend, Dir: a.cfg.Dir, PassDir: a.cfg.PassDir, Passphrase: pass})
	if err == nil {
		var toks []store.Token
		var bad []error
		toks, bad, err = st.Load()
		for _, b := range bad {
			a.log.Warn("skipping keychain item", zap.Error(b))
		}
		if err == nil {
			a.install(st, toks)
			a.log.Info("unlocked", zap.String("backend", a.cfg.Backend), zap.Int("tokens", len(toks)))
			return nil
		}
		st.Close()
	}
	a.mu.Lock()
	a.lockErr = err.Error()
	a.mu.Unlock()
	return err
}

func (a *Agent) install(st *store.Store, toks []store.Token) {
	m := make(map[string]*entry, len(toks))
	for _, t := range toks {
		e := &entry{tok: t}
		m[t.Name] = e
	}
	apps := a.loadApps(st)
	a.mu.Lock()
	old, oldApps, oldSt := a.tokens, a.apps, a.st
	a.st, a.tokens, a.lockErr = st, m, ""
	a.apps = apps
	a.tokensChanged()
	a.mu.Unlock()
	wipe(old)
	wipeApps(oldApps)
	if oldSt != nil {
		oldSt.Close()
	}
	a.active()
	a.changed()
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		a.Check()
	}()
}

// Lock drops every secret from memory.
func (a *Agent) Lock() { a.lockWith("locked by keyfob lock") }

func (a *Agent) lockWith(reason string) {
	a.mu.Lock()
	old, st, oldApps := a.tokens, a.st, a.apps
	a.st, a.tokens, a.lockErr = nil, nil, reason
	a.apps = nil
	a.tokensChanged()
	a.mu.Unlock()
	a.saveLastUsed(st, old)
	if st != nil {
		st.Close() // wipes the file backend's passphrase
	}
	wipe(old)
	a.dropApps(oldApps, reason)
	// Collect what the wipes left unreferenced and return free pages to
	// the kernel, which zero-fills them (docs/security.md).
	debug.FreeOSMemory()
	a.log.Info("locked", zap.String("reason", reason))
	a.changed()
}

func wipe(m map[string]*entry) {
	for _, e := range m {
		e.tok.Secret.Wipe()
	}
}

// SetRoutes replaces the routes (config reload). The secrets stay.
func (a *Agent) SetRoutes(routes *policy.Table, configErr string) {
	a.mu.Lock()
	a.routes, a.configErr = routes, configErr
	probs := a.routeProblems()
	a.mu.Unlock()
	for _, p := range probs {
		a.log.Warn("route cannot answer", zap.String("problem", p))
	}
}

// Summary says how the agent is, for logs and sd_notify STATUS=.
func (a *Agent) Summary() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.st == nil {
		return "locked"
	}
	return fmt.Sprintf("unlocked, %d tokens", len(a.tokens))
}

// Refused implements server.Handler.
func (a *Agent) Refused(peer peercred.Cred, reason string) {
	ev := audit.Event{Op: "connect", Decision: audit.DeniedPeer, Reason: reason}
	setPeer(&ev, peer)
	if err := a.cfg.Audit.Write(ev); err != nil {
		a.log.Error("audit", zap.Error(err))
	}
	a.log.Warn("refused peer", zap.Int("uid", peer.UID), zap.Int("pid", peer.PID), zap.String("exe", peer.Exe))
}

// Malformed implements server.Handler.
func (a *Agent) Malformed(peer peercred.Cred, err error) *client.Response {
	ev := audit.Event{Op: "decode", Decision: audit.BadRequest, Reason: err.Error()}
	setPeer(&ev, peer)
	if aerr := a.cfg.Audit.Write(ev); aerr != nil {
		a.log.Error("audit", zap.Error(aerr))
	}
	return &client.Response{Code: client.CodeBadRequest, Error: err.Error()}
}

func setPeer(ev *audit.Event, p peercred.Cred) {
	ev.UID, ev.PID, ev.Exe = p.UID, p.PID, p.Exe
}

// Handle implements server.Handler.
func (a *Agent) Handle(_ context.Context, peer peercred.Cred, req *client.Request) *client.Response {
	if req.Op != client.OpPing && req.Op != client.OpStatus {
		a.active()
	}
	switch req.Op {
	case client.OpPing, client.OpStatus:
		return &client.Response{Status: a.status()}
	case client.OpGet:
		return a.get(peer, req, "get")
	case client.OpToken:
		return a.get(peer, req, "token")
	case client.OpWhich:
		return a.which(req)
	case client.OpStore, client.OpErase:
		return a.gitReport(peer, req)
	case client.OpUnlock:
		return a.unlock(peer, req)
	case client.OpLock:
		// Audited first; but a lock that cannot be audited still locks,
		// since dropping the secrets is the safe direction.
		resp := a.audited(peer, audit.Event{Op: "lock", Decision: audit.Changed, Reason: "locked by keyfob lock"}, &client.Response{})
		a.Lock()
		return resp
	case client.OpAdd, client.OpRotate:
		return a.put(peer, req)
	case client.OpRemove:
		if resp := a.removeApp(peer, req); resp != nil {
			return resp
		}
		return a.remove(peer, req)
	case client.OpAppAdd:
		return a.appAdd(peer, req)
	case client.OpList:
		return a.list()
	default:
		return a.Malformed(peer, fmt.Errorf("unknown op %q", clip(req.Op, 32)))
	}
}

// audited writes ev and returns resp, or an unavailable answer when the audit
// log cannot be written: nothing is handed out that is not audited.
func (a *Agent) audited(peer peercred.Cred, ev audit.Event, resp *client.Response) *client.Response {
	setPeer(&ev, peer)
	ev.Time = a.cfg.Now()
	if err := a.cfg.Audit.Write(ev); err != nil {
		a.log.Error("audit write failed; refusing", zap.Error(err))
		resp.Secret.Wipe()
		return &client.Response{Code: client.CodeUnavailable, Error: "audit log cannot be written, so keyfob hands out nothing",
			Hint: "free space or fix permissions for " + a.cfg.Audit.Path()}
	}
	return resp
}

func errResp(code, msg, hint string) *client.Response {
	return &client.Response{Code: code, Error: msg, Hint: hint}
}

func lockedResp(lockErr string) *client.Response {
	return errResp(client.CodeLocked, "keyfob is locked ("+lockErr+")", "run keyfob unlock")
}

// policyTokens returns what policy needs of the tokens, sorted by name. It
// is built once per change, not per request: a get costs O(tokens) in
// policy.Decide and nothing more. Call it with mu held.
func (a *Agent) policyTokens() []policy.Token {
	if p := a.ptoks.Load(); p != nil {
		return *p
	}
	toks := make([]policy.Token, 0, len(a.tokens))
	for _, e := range a.tokens {
		toks = append(toks, policy.Token{Name: e.tok.Name, Hosts: e.tok.Meta.Hosts, Username: e.tok.Meta.Username,
			Unusable: unusable(e), Expires: e.tok.Meta.Expires})
	}
	toks = append(toks, a.appPolicyTokens()...)
	slices.SortFunc(toks, func(x, y policy.Token) int { return cmpString(x.Name, y.Name) })
	a.ptoks.Store(&toks)
	return toks
}

// tokensChanged drops the cached policy view. Call it with mu held for
// writing.
func (a *Agent) tokensChanged() { a.ptoks.Store(nil) }

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (a *Agent) credRequest(c *client.Credential) policy.Request {
	if c == nil {
		return policy.Request{Now: a.cfg.Now()}
	}
	return policy.Request{Protocol: c.Protocol, Host: c.Host, Path: c.Path, Username: c.Username, EmptyUsername: c.EmptyUsername, Now: a.cfg.Now()}
}

// get answers git's get and keyfob token: by name, or by URL through policy.
func (a *Agent) get(peer peercred.Cred, req *client.Request, op string) *client.Response {
	return a.resolve(peer, req, op, "", "")
}

// resolve is get for the agent's own socket and for grants (grants.go):
// grant is the label audited with the decision, "" for the agent's socket,
// and bound, when set, is the token (or App) the grant was made for. A
// bound request answers only with that token: the routes decide as for
// the agent's socket, but without the username git sent, and a decision
// for another token, or a username that is not the token's, answers
// nothing.
func (a *Agent) resolve(peer peercred.Cred, req *client.Request, op, grant, bound string) *client.Response {
	ev := audit.Event{Op: op, Grant: grant}
	if req.Cred != nil {
		ev.Protocol, ev.Host, ev.Path, ev.Username = req.Cred.Protocol, req.Cred.Host, req.Cred.Path, req.Cred.Username
	}
	a.mu.RLock()
	// A GitHub App's token is minted without mu held (appAnswer).
	held := true
	defer func() {
		if held {
			a.mu.RUnlock()
		}
	}()
	if a.st == nil {
		ev.Decision, ev.Reason = audit.Locked, a.lockErr
		return a.audited(peer, ev, lockedResp(a.lockErr))
	}
	var e *entry
	var route, reason, pathWarn string
	switch {
	case req.Name != "" && req.Cred == nil:
		e = a.tokens[req.Name]
		if ap := a.apps[req.Name]; e == nil && ap != nil {
			app := ap.snapshot()
			held = false
			a.mu.RUnlock()
			return a.appAnswer(peer, req, ev, app, policy.Route{}, "", "by name", "")
		}
		if e == nil {
			ev.Decision, ev.Reason = audit.NoMatch, "no token named "+req.Name
			return a.audited(peer, ev, errResp(client.CodeNotFound, "no token named "+req.Name, "keyfob list shows the names"))
		}
		reason = "by name"
	case req.Cred != nil:
		pr := a.credRequest(req.Cred)
		if bound != "" {
			pr.Username = ""
		}
		d := policy.Decide(pr, a.policyTokens(), a.routes)
		if d.Outcome == policy.Granted && bound != "" {
			if why := boundMismatch(d.Token, bound, req.Cred.Username, a.usernameOf(d.Token)); why != "" {
				ev.Decision, ev.Reason = audit.Denied, why
				return a.audited(peer, ev, errResp(client.CodeDenied, why, ""))
			}
		}
		if d.Outcome == policy.Granted {
			// Suspect changes without a new policy view: a token a
			// remote rejected answers nothing until it is re-validated.
			if e := a.tokens[d.Token]; e != nil && e.suspect.Load() {
				why := fmt.Sprintf("token %s was rejected by a remote and is being re-validated; keyfob status shows the result", d.Token)
				ev.Decision, ev.Reason = audit.NoMatch, why
				return a.audited(peer, ev, errResp(client.CodeNotFound, why, "if it was revoked or expired, run: keyfob rotate "+d.Token))
			}
		}
		switch d.Outcome {
		case policy.Denied:
			ev.Decision, ev.Reason = audit.Denied, d.Reason
			return a.audited(peer, ev, errResp(client.CodeDenied, d.Reason, ""))
		case policy.NoMatch:
			ev.Decision, ev.Reason = audit.NoMatch, d.Reason
			hint := ""
			if d.Matched.Token != "" {
				hint = "keyfob which " + req.Cred.Host + pathSuffix(req.Cred.Path) + " explains it"
			}
			resp := a.audited(peer, ev, errResp(client.CodeNotFound, d.Reason, hint))
			if op == "get" && d.PathRoutes {
				resp.Warnings = appendNonEmpty(resp.Warnings, a.pathHints.note(req.Cred.Protocol, req.Cred.Host, a.cfg.Now()))
			}
			return resp
		}
		e, route, reason = a.tokens[d.Token], d.Route, d.Reason
		if op == "get" && d.PathRoutes {
			pathWarn = a.pathHints.note(req.Cred.Protocol, req.Cred.Host, a.cfg.Now())
		}
		if ap := a.apps[d.Token]; e == nil && ap != nil {
			app := ap.snapshot()
			held = false
			a.mu.RUnlock()
			return a.appAnswer(peer, req, ev, app, d.Matched, route, reason, pathWarn)
		}
	default:
		ev.Decision, ev.Reason = audit.BadRequest, "neither a name nor a URL"
		return a.audited(peer, ev, errResp(client.CodeBadRequest, "token needs a name or a URL", ""))
	}
	now := a.cfg.Now()
	ev.Decision, ev.Reason, ev.Token, ev.FP = audit.Granted, reason, e.tok.Name, e.tok.Secret.Fingerprint()
	resp := &client.Response{
		Username:    e.tok.Meta.Username,
		Token:       e.tok.Name,
		Fingerprint: ev.FP,
		Route:       route,
		Reason:      reason,
		// A copy: a lock or rotate wipes the held bytes, and must not
		// reach an answer that is still being written.
		Secret: e.tok.Secret.Clone(),
	}
	if !e.tok.Meta.Expires.IsZero() {
		resp.Expiry = e.tok.Meta.Expires.Unix()
	}
	resp = a.audited(peer, ev, resp)
	if resp.Code == "" {
		e.lastUsed.Store(now.UnixNano())
		if w := a.warning(e, now); w != "" {
			a.log.Warn(w)
			resp.Warnings = append(resp.Warnings, w)
		}
		resp.Warnings = appendNonEmpty(resp.Warnings, pathWarn)
	}
	return resp
}

// boundMismatch says why a grant made for bound must not answer with
// chosen for a request that sent username sent, "" when it may.
func boundMismatch(chosen, bound, sent, username string) string {
	if chosen != bound {
		return fmt.Sprintf("the grant was made for %s, and this repository now routes to %s", bound, chosen)
	}
	if sent != "" && sent != username {
		return fmt.Sprintf("git sent username %q, which is not the granted token's", sent)
	}
	return ""
}

// usernameOf returns the username a token or App answers with. Call it
// with mu held.
func (a *Agent) usernameOf(name string) string {
	if e := a.tokens[name]; e != nil {
		return e.tok.Meta.Username
	}
	return DefaultUsername
}

// which says which token a URL would get, and why, without handing it out.
func (a *Agent) which(req *client.Request) *client.Response {
	if req.Cred == nil {
		return errResp(client.CodeBadRequest, "which needs a URL", "")
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.st == nil {
		return lockedResp(a.lockErr)
	}
	d := policy.Explain(a.credRequest(req.Cred), a.policyTokens(), a.routes)
	resp := &client.Response{Token: d.Token, Route: d.Route, Reason: d.Reason}
	for _, c := range d.Candidates {
		resp.Candidates = append(resp.Candidates, client.Candidate{Token: c.Token, Chosen: c.Chosen, Reason: c.Reason})
	}
	if d.Outcome == policy.Denied {
		resp.Code, resp.Error = client.CodeDenied, d.Reason
	}
	return resp
}

// gitReport handles git's store and erase. keyfob keeps no credential that
// git offers, and erase never deletes a token: it marks it suspect. Either
// acts on a token only when git's host is in its allowlist, and git's
// username and password are the token's: a credential that is not
// keyfob's, or not for that host, changes nothing.
func (a *Agent) gitReport(peer peercred.Cred, req *client.Request) *client.Response {
	ev := audit.Event{Op: req.Op}
	if req.Cred == nil {
		ev.Decision, ev.Reason = audit.BadRequest, "no credential"
		return a.audited(peer, ev, errResp(client.CodeBadRequest, req.Op+" needs a credential", ""))
	}
	c := req.Cred
	ev.Protocol, ev.Host, ev.Path, ev.Username = c.Protocol, c.Host, c.Path, c.Username
	// The write lock: an erase may change a token's metadata. git sends
	// store and erase once per fetch at most, so gets hardly wait.
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.reported(c)
	if e == nil {
		if resp := a.mintedReport(peer, req, ev); resp != nil {
			return resp
		}
	}
	resp := &client.Response{}
	if req.Op == client.OpStore {
		ev.Decision = audit.Stored
		if e == nil {
			ev.Reason = "not a keyfob token for this host and username; keyfob does not keep credentials from git"
			return a.audited(peer, ev, resp)
		}
		ev.Token, ev.FP = e.tok.Name, e.tok.Secret.Fingerprint()
		ev.Reason = "git confirmed the token works"
		if resp = a.audited(peer, ev, resp); resp.Code == "" {
			e.suspect.Store(false)
		}
		return resp
	}
	ev.Decision = audit.Erased
	if e == nil {
		ev.Reason = "not a keyfob token for this host and username; nothing to do"
		return a.audited(peer, ev, resp)
	}
	ev.Token, ev.FP = e.tok.Name, e.tok.Secret.Fingerprint()
	_, canCheck := a.revalidationAPI(e.tok.Meta.Hosts, c.Host)
	ev.Reason = "git reported a rejection; token kept and marked suspect until re-validated"
	if !canCheck {
		ev.Reason = "git reported a rejection; no API can re-check the token, so it is kept in service and the rejection recorded"
	}
	// The mark is audited before it is made.
	if resp = a.audited(peer, ev, resp); resp.Code != "" {
		return resp
	}
	if canCheck {
		e.suspect.Store(true)
		a.startRevalidation(peer, e, c.Host, c.Path)
	} else {
		a.recordRejection(e, c.Host, c.Path)
	}
	resp.Warnings = []string{fmt.Sprintf("%s was rejected by %s%s; keyfob keeps it. If it was revoked or expired, run: keyfob rotate %s",
		e.tok.Name, c.Host, pathSuffix(c.Path), e.tok.Name)}
	a.log.Warn("token rejected by remote", zap.String("token", e.tok.Name), zap.String("host", c.Host), zap.String("path", c.Path))
	return resp
}

// recordRejection keeps where and when git reported e rejected. Call it
// with mu held for writing.
func (a *Agent) recordRejection(e *entry, host, path string) {
	t := e.tok
	t.Meta.LastRejected, t.Meta.RejectedAt = a.cfg.Now().UTC().Truncate(time.Second), host+pathSuffix(path)
	if err := a.st.Put(t); err != nil {
		a.log.Error("keychain write", zap.String("token", t.Name), zap.Error(err))
	}
	e.tok.Meta = t.Meta
	a.tokensChanged()
}

// reported returns the token git's store or erase is about: the one whose
// allowlist has git's host, whose username is git's, and whose secret has
// git's password fingerprint. Call it with mu held.
func (a *Agent) reported(c *client.Credential) *entry {
	if c.PasswordFP == "" || c.Username == "" || policy.CheckRequest(policy.Request{Protocol: c.Protocol, Host: c.Host, Path: c.Path, Username: c.Username}) != nil {
		return nil
	}
	if c.State != "" {
		// git 2.46+ sent back the state keyfob gave with the credential:
		// only the token it names may answer, and only if it is still
		// the secret that was served.
		name, fp, ok := client.ParseState(c.State)
		x := a.tokens[name]
		if !ok || x == nil || fp != c.PasswordFP || x.tok.Meta.Username != c.Username || !policy.HostAllowed(x.tok.Meta.Hosts, c.Host) ||
			subtle.ConstantTimeCompare([]byte(x.tok.Secret.Fingerprint()), []byte(fp)) != 1 {
			return nil
		}
		return x
	}
	for _, x := range a.tokens {
		if x.tok.Meta.Username == c.Username && policy.HostAllowed(x.tok.Meta.Hosts, c.Host) &&
			subtle.ConstantTimeCompare([]byte(x.tok.Secret.Fingerprint()), []byte(c.PasswordFP)) == 1 {
			return x
		}
	}
	return nil
}

func pathSuffix(p string) string {
	if p == "" {
		return ""
	}
	return "/" + p
}

func (a *Agent) unlock(peer peercred.Cred, req *client.Request) *client.Response {
	ev := audit.Event{Op: "unlock"}
	pass := req.Secret
	if a.cfg.Backend == store.File && pass.IsZero() {
		ev.Decision, ev.Reason = audit.Failed, "no passphrase"
		return a.audited(peer, ev, errResp(client.CodeBadRequest, "the file backend needs a passphrase", "run keyfob unlock in a terminal"))
	}
	// The unlock is audited before it is made: no audit line, no unlock.
	ev.Decision, ev.Reason = audit.Changed, "unlocking"
	if r := a.audited(peer, ev, &client.Response{}); r.Code != "" {
		return r
	}
	err := a.Unlock(pass)
	switch {
	case err == nil:
		return &client.Response{Status: a.status()}
	case errors.Is(err, store.ErrBadPassphrase):
		ev.Decision, ev.Reason = audit.Failed, "wrong passphrase"
		return a.audited(peer, ev, errResp(client.CodeDenied, "wrong passphrase", "try again"))
	default:
		ev.Decision, ev.Reason = audit.Failed, err.Error()
		a.log.Error("unlock", zap.Error(err))
		return a.audited(peer, ev, errResp(client.CodeUnavailable, "keychain unavailable: "+err.Error(), "keyfob doctor checks the backend"))
	}
}

func (a *Agent) put(peer peercred.Cred, req *client.Request) *client.Response {
	ev := audit.Event{Op: req.Op, Token: req.Name}
	fail := func(code, msg, hint string) *client.Response {
		ev.Decision, ev.Reason = audit.Failed, msg
		return a.audited(peer, ev, errResp(code, msg, hint))
	}
	if err := store.ValidName(req.Name); err != nil {
		return fail(client.CodeBadRequest, err.Error(), "")
	}
	if req.Secret.IsZero() {
		return fail(client.CodeBadRequest, "empty token", "pass the token on stdin or at the prompt")
	}
	if req.Secret.HasControl() {
		return fail(client.CodeBadRequest, "the token holds a control character (CR, LF, NUL or another); nothing was stored", "pass the token alone, on one line")
	}
	meta := req.Meta
	if meta == nil {
		meta = &client.TokenMeta{}
	}
	if err := checkValue("username", meta.Username); err != nil {
		return fail(client.CodeBadRequest, err.Error(), "")
	}
	// Validate before taking the lock: the API may be slow, and the old
	// secret stays in force until the new one has passed.
	hosts := meta.Hosts
	if req.Op == client.OpRotate {
		a.mu.RLock()
		if old := a.tokens[req.Name]; old != nil {
			hosts = old.tok.Meta.Hosts
		}
		a.mu.RUnlock()
	}
	for _, h := range hosts {
		if err := checkHost(h); err != nil {
			return fail(client.CodeBadRequest, err.Error(), "")
		}
	}
	vd, err := a.validate(hosts, req.Secret, meta.NoVerify)
	if err != nil {
		return fail(client.CodeDenied, "GitHub refused the token: "+err.Error()+"; nothing was stored", "check the token, or pass --no-verify to store it unchecked")
	}

	defer a.changed() // after the unlock below
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil {
		ev.Decision = audit.Locked
		return a.audited(peer, ev, lockedResp(a.lockErr))
	}
	now := a.cfg.Now().UTC().Truncate(time.Second)
	old := a.tokens[req.Name]
	var t store.Token
	switch {
	case req.Op == client.OpAdd && old != nil:
		return fail(client.CodeBadRequest, "token "+req.Name+" exists", "use keyfob rotate "+req.Name+" to replace its secret")
	case a.apps[req.Name] != nil:
		return fail(client.CodeBadRequest, "an app is named "+req.Name, "tokens and apps share one set of names; choose another")
	case req.Op == client.OpRotate && old == nil:
		return fail(client.CodeNotFound, "no token named "+req.Name, "keyfob list shows the names")
	case req.Op == client.OpAdd:
		if len(meta.Hosts) == 0 {
			return fail(client.CodeBadRequest, "a token needs at least one --host", "")
		}
		user := meta.Username
		if user == "" {
			user = DefaultUsername
		}
		t = store.Token{Name: req.Name, Meta: store.Meta{Hosts: meta.Hosts, Username: user, Created: now,
			Expires: meta.Expires, RotateEvery: time.Duration(meta.RotateEvery) * time.Second}}
	default:
		t = old.tok
		m := &t.Meta
		m.Rotated, m.Expires = now, meta.Expires
		m.Login, m.Kind, m.Scopes, m.Validated, m.Validation, m.ValidationMsg = "", "", nil, time.Time{}, "", ""
		m.RejectedAt = ""
	}
	vd.apply(&t.Meta, now)
	t.Secret = req.Secret.Clone()
	// The change is audited before the keychain or memory sees it.
	ev.Decision, ev.FP, ev.Reason = audit.Changed, t.Secret.Fingerprint(), vd.msg
	if r := a.audited(peer, ev, &client.Response{}); r.Code != "" {
		t.Secret.Wipe()
		r.Error += "; nothing was stored"
		return r
	}
	if err := a.st.Put(t); err != nil {
		t.Secret.Wipe()
		a.log.Error("keychain write", zap.String("token", t.Name), zap.Error(err))
		return fail(client.CodeUnavailable, "keychain write failed; nothing changed", "keyfob doctor checks the backend")
	}
	e := &entry{tok: t}
	a.tokens[t.Name] = e
	a.tokensChanged()
	if old != nil {
		old.tok.Secret.Wipe()
	}
	resp := &client.Response{Token: t.Name, Fingerprint: ev.FP, Tokens: []client.TokenInfo{a.info(e, a.cfg.Now())}}
	resp.Warnings = appendNonEmpty(resp.Warnings, vd.warning)
	return resp
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

// clip cuts s to n bytes for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
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

func (a *Agent) remove(peer peercred.Cred, req *client.Request) *client.Response {
	ev := audit.Event{Op: "remove", Token: req.Name}
	defer a.changed() // after the unlock below
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st == nil {
		ev.Decision = audit.Locked
		return a.audited(peer, ev, lockedResp(a.lockErr))
	}
	e := a.tokens[req.Name]
	if e == nil {
		ev.Decision, ev.Reason = audit.Failed, "no such token"
		return a.audited(peer, ev, errResp(client.CodeNotFound, "no token named "+req.Name, "keyfob list shows the names"))
	}
	ev.Decision, ev.FP = audit.Changed, e.tok.Secret.Fingerprint()
	if r := a.audited(peer, ev, &client.Response{}); r.Code != "" {
		r.Error += "; nothing was removed"
		return r
	}
	err := a.st.Remove(req.Name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.log.Error("keychain remove", zap.String("token", req.Name), zap.Error(err))
		ev.Decision, ev.Reason = audit.Failed, "keychain error"
		return a.audited(peer, ev, errResp(client.CodeUnavailable, "keychain remove failed; nothing changed", "keyfob doctor checks the backend"))
	}
	e.tok.Secret.Wipe()
	delete(a.tokens, req.Name)
	a.tokensChanged()
	return &client.Response{Token: req.Name}
}

func (a *Agent) list() *client.Response {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.st == nil {
		return lockedResp(a.lockErr)
	}
	now := a.cfg.Now()
	resp := &client.Response{Status: a.statusLocked()}
	for _, e := range a.tokens {
		resp.Tokens = append(resp.Tokens, a.info(e, now))
	}
	slices.SortFunc(resp.Tokens, func(x, y client.TokenInfo) int { return cmpString(x.Name, y.Name) })
	resp.Apps = a.appInfos()
	return resp
}

func (a *Agent) status() *client.Status {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.statusLocked()
}

func (a *Agent) statusLocked() *client.Status {
	s := &client.Status{
		Version: client.Version, PID: os.Getpid(), Backend: a.cfg.Backend,
		Locked: a.st == nil, LockError: a.lockErr, Tokens: len(a.tokens), Apps: len(a.apps),
		Socket: a.cfg.Socket, Config: a.cfg.ConfigPath, ConfigErr: a.configErr,
		RouteErrs: a.routeProblems(),
	}
	if a.cfg.Audit != nil {
		s.AuditLog = a.cfg.Audit.Path()
	}
	s.NeedsPass = s.Locked && a.cfg.Backend == store.File
	return s
}
