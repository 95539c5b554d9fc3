// Package grant gives a sandbox scoped, expiring access to a few
// repositories: a socket of its own that answers git's get for those
// repositories and nothing else, or the token written to a file. Grants live
// in the agent's memory only. Each one ends at its expiry, when revoked,
// after its last allowed use, or when the agent stops, and its socket or
// file goes with it.
package grant

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/listen"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/server"
)

// Limits.
const (
	// DefaultTTL is a grant's lifetime when the request names none.
	DefaultTTL = time.Hour
	// MaxTTL is the longest grant.
	MaxTTL = 7 * 24 * time.Hour
	// MaxGrants caps the grants alive at once.
	MaxGrants = 64
	// maxSleep bounds the wait between checks, so that a grant ends
	// within this long of its expiry even after a suspend, when the
	// monotonic clock that timers use has stood still.
	maxSleep = time.Minute
)

// Reasons a grant ends, as audited.
const (
	EndExpired = "expired"
	EndRevoked = "revoked"
	EndUsedUp  = "used up"
	EndStopped = "agent stopped"
)

// overflowUID is what the kernel reports for a uid with no mapping in the
// reader's user namespace (the agent under PrivateUsers=yes, for one). A
// grant for it would serve every such uid.
const overflowUID = 65534

var labelRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Config configures a Manager.
type Config struct {
	// Agent answers for the grants, and audits their every decision
	// (agent.Answer).
	Agent *agent.Agent
	Log   *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Dir holds the sockets and files of grants that name no path (a
	// directory per grant) and the records that let the next agent remove
	// what a crashed one left behind. It is created 0700.
	Dir string
}

// Manager holds the grants. It implements server.Handler for the agent's
// own socket: grant, grants and revoke are its own, every other request
// goes to the agent.
type Manager struct {
	cfg  Config
	log  *zap.Logger
	self peercred.Cred

	mu     sync.Mutex
	grants map[string]*grant
	closed bool

	kick     chan struct{}
	stop     chan struct{}
	loopDone chan struct{}
	servers  sync.WaitGroup
}

type grant struct {
	label string
	urls  []string
	// routes hold one route per URL, in the order of urls: the grant's
	// repositories, matched as the agent matches its routes.
	routes *policy.Table
	creds  []client.Credential
	// bound[i] is the token (or App) the routes chose for urls[i] when
	// the grant was made; the grant answers with it or not at all.
	bound   []string
	mode    string
	path    string
	ownDir  string // the grant's own directory under Config.Dir, or ""
	uids    []int
	created time.Time
	expires time.Time // wall clock only
	maxUses int

	done chan struct{} // closed once the socket or file is gone

	mu        sync.Mutex
	cancel    context.CancelFunc // socket mode: stops its server
	uses      int
	inflight  int
	ended     bool
	file      os.FileInfo // file mode: the file written, removed only if still it
	refreshAt time.Time   // file mode: zero when the token outlives the grant
	tokExpiry time.Time
}

// New returns a manager and starts the goroutine that ends grants at their
// expiry and refreshes token files. It first removes the sockets and files
// that an agent which did not stop cleanly left in cfg.Dir.
func New(cfg Config) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	m := &Manager{cfg: cfg, log: cfg.Log, grants: map[string]*grant{},
		self: peercred.Cred{UID: os.Getuid(), PID: os.Getpid()},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), loopDone: make(chan struct{})}
	m.removeLeftovers()
	go m.loop()
	return m
}

// now is the wall clock: grants expire by the time of day, so a suspend
// does not stretch them.
func (m *Manager) now() time.Time { return m.cfg.Now().Round(0) }

// Handle implements server.Handler.
func (m *Manager) Handle(ctx context.Context, peer peercred.Cred, req *client.Request) *client.Response {
	switch req.Op {
	case client.OpGrant:
		return m.create(ctx, peer, req.Grant)
	case client.OpGrants:
		return &client.Response{Grants: m.List()}
	case client.OpRevoke:
		return m.revoke(peer, req.Name)
	}
	return m.cfg.Agent.Handle(ctx, peer, req)
}

// Refused implements server.Handler.
func (m *Manager) Refused(peer peercred.Cred, reason string) { m.cfg.Agent.Refused(peer, reason) }

// Malformed implements server.Handler.
func (m *Manager) Malformed(peer peercred.Cred, err error) *client.Response {
	return m.cfg.Agent.Malformed(peer, err)
}

// List describes the grants alive, by label.
func (m *Manager) List() []client.GrantInfo {
	m.mu.Lock()
	gs := make([]*grant, 0, len(m.grants))
	for _, g := range m.grants {
		gs = append(gs, g)
	}
	m.mu.Unlock()
	out := make([]client.GrantInfo, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.info())
	}
	slices.SortFunc(out, func(a, b client.GrantInfo) int { return strings.Compare(a.Label, b.Label) })
	return out
}

func (g *grant) info() client.GrantInfo {
	g.mu.Lock()
	defer g.mu.Unlock()
	return client.GrantInfo{Label: g.label, URLs: g.urls, Mode: g.mode, Path: g.path, UIDs: g.uids,
		Created: g.created, Expires: g.expires, Uses: g.uses, MaxUses: g.maxUses, Refreshes: g.refreshAt}
}

// Done returns a channel closed once the grant labelled label has ended and
// its socket or file is gone; nil when there is no such grant.
func (m *Manager) Done(label string) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if g := m.grants[label]; g != nil {
		return g.done
	}
	return nil
}

// answer audits and answers o through the agent's one wrapper
// (agent.Answer), by the grant clock: audited before the answer leaves, a
// change made only once its line is written.
func (m *Manager) answer(peer peercred.Cred, o agent.Outcome) *client.Response {
	o.Event.Time = m.now()
	return m.cfg.Agent.Answer(peer, o)
}

// record writes ev for what has happened whether or not its line can be
// written: a refused peer, an unreadable request, a grant's end.
func (m *Manager) record(peer peercred.Cred, ev audit.Event) {
	ev.Time = m.now()
	if err := m.cfg.Agent.Record(peer, ev); err != nil {
		m.log.Error("audit", zap.Error(err))
	}
}

func errResp(code, msg, hint string) *client.Response {
	return &client.Response{Code: code, Error: msg, Hint: hint}
}

// create makes a grant from spec, or says why not; both are audited.
func (m *Manager) create(ctx context.Context, peer peercred.Cred, spec *client.GrantSpec) *client.Response {
	ev := audit.Event{Op: client.OpGrant}
	fail := func(code, msg, hint string) *client.Response {
		ev.Decision, ev.Reason = audit.Failed, msg
		return m.answer(peer, agent.Outcome{Resp: errResp(code, msg, hint), Event: ev})
	}
	if spec == nil {
		return fail(client.CodeBadRequest, "grant needs a spec", "")
	}
	ev.Grant = spec.Label
	g, err := m.parse(spec)
	if err != nil {
		return fail(client.CodeBadRequest, err.Error(), "")
	}
	ev.Grant = g.label
	if r := m.routable(ctx, peer, g); r != nil {
		return fail(r.Code, r.Error, r.Hint)
	}

	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return fail(client.CodeUnavailable, "the agent is stopping", "")
	case m.grants[g.label] != nil:
		m.mu.Unlock()
		return fail(client.CodeBadRequest, "a grant labelled "+g.label+" exists", "keyfob revoke "+g.label+" ends it, or choose another --label")
	case len(m.grants) >= MaxGrants:
		m.mu.Unlock()
		return fail(client.CodeUnavailable, fmt.Sprintf("%d grants are alive, the most keyfob keeps", MaxGrants), "keyfob grants lists them; keyfob revoke LABEL ends one")
	}
	m.grants[g.label] = g // holds the label while the socket or file is made
	m.mu.Unlock()

	// The grant is audited before its socket or file exists: a grant that
	// cannot be audited is not made.
	ev.Decision = audit.Changed
	ev.Reason = fmt.Sprintf("%s for %s (tokens %s) until %s", g.mode, strings.Join(g.urls, " "), strings.Join(g.bound, " "), g.expires.UTC().Format(time.RFC3339))
	if g.maxUses > 0 {
		ev.Reason += fmt.Sprintf(", at most %d uses", g.maxUses)
	}
	if g.mode == client.GrantSocket {
		ev.Reason += fmt.Sprintf(", peer uids %v", g.uids)
	}
	var opened *client.Response // why the socket or file could not be made
	unhold := func() {
		m.mu.Lock()
		delete(m.grants, g.label)
		m.mu.Unlock()
	}
	r := m.answer(peer, agent.Outcome{Resp: &client.Response{}, Event: ev, Change: &agent.Change{
		Commit: func() error {
			if g.mode == client.GrantSocket {
				opened = m.openSocket(g)
			} else {
				opened = m.openFile(ctx, peer, g)
			}
			if opened == nil {
				return nil
			}
			unhold()
			if g.ownDir != "" {
				os.RemoveAll(g.ownDir)
			}
			return errors.New(opened.Error)
		},
		Failed: func(error) (*client.Response, string) {
			return errResp(opened.Code, opened.Error, opened.Hint), opened.Error
		},
		Undo: unhold,
	}})
	if r.Code != "" {
		return r
	}
	g.mu.Lock()
	ended := g.ended
	g.mu.Unlock()
	if ended {
		return fail(client.CodeUnavailable, "the agent is stopping", "")
	}
	m.saveRecord(g)
	m.log.Info("grant created", zap.String("grant", g.label), zap.String("mode", g.mode), zap.String("path", g.path),
		zap.Strings("urls", g.urls), zap.Time("expires", g.expires))
	m.wake()
	return &client.Response{Grants: []client.GrantInfo{g.info()}}
}

// parse checks spec and turns it into a grant that is not yet open.
func (m *Manager) parse(spec *client.GrantSpec) (*grant, error) {
	if len(spec.URLs) == 0 {
		return nil, errors.New("a grant needs at least one --url")
	}
	now := m.now()
	g := &grant{mode: spec.Mode, maxUses: spec.MaxUses, created: now, done: make(chan struct{})}
	var repos []policy.Route
	for _, u := range spec.URLs {
		c, p, err := parseURL(u)
		if err != nil {
			return nil, err
		}
		if spec.Mode == client.GrantFile && strings.HasSuffix(p.String(), "/*") {
			return nil, fmt.Errorf("--url %s: a file holds one token, so a file grant names whole repositories, not owner/*", u)
		}
		repos = append(repos, policy.Route{Match: p.String(), Source: u})
		g.urls = append(g.urls, p.String())
		g.creds = append(g.creds, c)
	}
	g.routes = policy.Compile(repos)
	if g.routes.Len() != len(g.urls) {
		return nil, errors.New("a grant's repositories do not compile") // parseURL parsed each
	}
	ttl := time.Duration(spec.TTL) * time.Second
	switch {
	case spec.TTL == 0:
		ttl = DefaultTTL
	case spec.TTL < 0 || ttl > MaxTTL:
		return nil, fmt.Errorf("ttl %ds: want between 1s and %s", spec.TTL, MaxTTL)
	}
	g.expires = now.Add(ttl)
	if spec.MaxUses < 0 {
		return nil, fmt.Errorf("max uses %d: want 1 or more, or 0 for no cap", spec.MaxUses)
	}
	switch spec.Mode {
	case client.GrantSocket:
		g.uids = slices.Clone(spec.UIDs)
		if len(g.uids) == 0 {
			g.uids = []int{os.Getuid()}
		}
		for _, u := range g.uids {
			if u < 0 {
				return nil, fmt.Errorf("uid %d: want 0 or more", u)
			}
			if u == overflowUID {
				return nil, fmt.Errorf("uid %d is the overflow uid, which every uid unmapped in a user namespace reads as", u)
			}
		}
	case client.GrantFile:
		if spec.MaxUses != 0 {
			return nil, errors.New("--max-uses counts answers on a grant socket; a file can be read any number of times")
		}
		if len(spec.UIDs) != 0 {
			return nil, errors.New("--uid applies to socket grants; a token file is readable by your uid only (mode 0600)")
		}
	default:
		return nil, fmt.Errorf("grant mode %q: want socket or file", spec.Mode)
	}
	g.label = spec.Label
	if g.label == "" {
		g.label = defaultLabel(g.urls[0])
	}
	if !labelRE.MatchString(g.label) {
		return nil, fmt.Errorf("label %q: want up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", g.label)
	}
	g.path = spec.Path
	if g.path == "" {
		if m.cfg.Dir == "" {
			return nil, errors.New("grant needs a path: this agent has no runtime directory for grants")
		}
		g.ownDir = filepath.Join(m.cfg.Dir, g.label)
		g.path = filepath.Join(g.ownDir, map[string]string{client.GrantSocket: "keyfob.sock", client.GrantFile: "token"}[g.mode])
	} else if !filepath.IsAbs(g.path) {
		return nil, fmt.Errorf("grant path %q is not absolute", g.path)
	}
	return g, nil
}

// parseURL turns a --url into the credential git would send for it and the
// pattern that requests must match: host/owner/repo or host/owner/*.
func parseURL(u string) (client.Credential, policy.Pattern, error) {
	c, err := client.ParseRemote(u)
	if err != nil {
		return c, policy.Pattern{}, fmt.Errorf("--url %s: %w", u, err)
	}
	if c.Username != "" {
		return c, policy.Pattern{}, fmt.Errorf("--url %s: leave the username out; the token's route decides it", u)
	}
	c.Path = strings.TrimSuffix(c.Path, ".git")
	p, err := policy.ParsePattern(c.Host + "/" + c.Path)
	if err != nil || strings.Count(c.Path, "/") != 1 || strings.HasPrefix(c.Path, "*") {
		return c, policy.Pattern{}, fmt.Errorf("--url %s: a grant names repositories, host/owner/repo or host/owner/*", u)
	}
	return c, p, nil
}

// defaultLabel names a grant after its first repository, s as
// policy.Pattern's String writes it.
func defaultLabel(s string) string {
	base := s[strings.LastIndex(s, "/")+1:]
	if base == "*" {
		base = strings.Split(s, "/")[1]
	}
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, base)
	if len(base) > 40 {
		base = base[:40]
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return strings.TrimLeft(base, "._-") + "-" + hex.EncodeToString(b)
}

// routable checks that each granted repository gets a token now, so that a
// grant that could answer nothing fails when it is made.
func (m *Manager) routable(ctx context.Context, peer peercred.Cred, g *grant) *client.Response {
	g.bound = make([]string, len(g.creds))
	for i, c := range g.creds {
		// host/owner/* asks what the owner-wide routes choose: a route
		// for one repository does not match the literal "*".
		c := c
		r := m.cfg.Agent.Handle(ctx, peer, &client.Request{Op: client.OpWhich, Cred: &c})
		if r.Code != "" {
			return r
		}
		if r.Token == "" {
			msg := "no token for " + g.urls[i]
			if r.Reason != "" {
				msg += ": " + r.Reason
			}
			return errResp(client.CodeNotFound, msg, "keyfob which "+g.urls[i]+" says why")
		}
		g.bound[i] = r.Token
	}
	return nil
}

// openSocket listens at the grant's path and serves it until the grant ends.
func (m *Manager) openSocket(g *grant) *client.Response {
	if r := m.makeOwnDir(g); r != nil {
		return r
	}
	mode := os.FileMode(0o600)
	for _, u := range g.uids {
		if u != os.Getuid() {
			// Another uid must be able to connect for SO_PEERCRED to
			// admit it; the uid check at accept is the boundary.
			mode = 0o666
		}
	}
	l, err := listen.Unix(g.path, listen.Options{SkipDirCheck: true, Mode: mode})
	if err != nil {
		return errResp(client.CodeUnavailable, "grant socket: "+err.Error(), "")
	}
	if fi, err := os.Lstat(g.path); err == nil {
		g.file = fi
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.mu.Lock()
	g.cancel = cancel
	ended := g.ended // by Close, while the socket was being made
	g.mu.Unlock()
	if ended {
		cancel()
	}
	srv := &server.Server{Handler: &gate{m: m, g: g}, Log: m.log.With(zap.String("grant", g.label)),
		AllowUID: func(uid int) bool { return slices.Contains(g.uids, uid) }, MaxConns: 64}
	m.servers.Add(1)
	go func() {
		defer m.servers.Done()
		if err := srv.Serve(ctx, l); err != nil {
			m.log.Warn("grant socket", zap.String("grant", g.label), zap.Error(err))
		}
		// Serve closed the listener, which removed the socket file.
		m.cleanup(g)
	}()
	return nil
}

func (m *Manager) makeOwnDir(g *grant) *client.Response {
	if g.ownDir == "" {
		return nil
	}
	if err := os.MkdirAll(m.cfg.Dir, 0o700); err != nil {
		return errResp(client.CodeUnavailable, "grant directory: "+err.Error(), "")
	}
	if err := listen.CheckDir(m.cfg.Dir); err != nil {
		return errResp(client.CodeUnavailable, "grant directory: "+err.Error(), "")
	}
	if err := os.Mkdir(g.ownDir, 0o700); err != nil {
		return errResp(client.CodeUnavailable, "grant directory: "+err.Error(), "")
	}
	return nil
}

// cleanup removes what is left of an ended grant and says it is gone.
func (m *Manager) cleanup(g *grant) {
	if g.ownDir != "" {
		if err := os.RemoveAll(g.ownDir); err != nil {
			m.log.Warn("remove grant directory", zap.String("grant", g.label), zap.Error(err))
		}
	}
	m.removeRecord(g.label)
	close(g.done)
}

// revoke ends the grant labelled label early.
func (m *Manager) revoke(peer peercred.Cred, label string) *client.Response {
	ev := audit.Event{Op: client.OpRevoke, Grant: label}
	m.mu.Lock()
	g := m.grants[label]
	m.mu.Unlock()
	if g == nil {
		ev.Decision, ev.Reason = audit.Failed, "no such grant"
		return m.answer(peer, agent.Outcome{Resp: errResp(client.CodeNotFound, "no grant labelled "+label, "keyfob grants lists them"), Event: ev})
	}
	info := g.info()
	m.end(g, EndRevoked, peer)
	return &client.Response{Grants: []client.GrantInfo{info}}
}

// end ends g once: its socket stops answering and goes away, or its file is
// removed. It does not wait for a socket's open connections.
func (m *Manager) end(g *grant, reason string, peer peercred.Cred) {
	g.mu.Lock()
	if g.ended {
		g.mu.Unlock()
		return
	}
	g.ended = true
	cancel := g.cancel
	g.mu.Unlock()
	m.mu.Lock()
	if m.grants[g.label] == g {
		delete(m.grants, g.label)
	}
	m.mu.Unlock()

	op := client.OpGrant
	if reason == EndRevoked {
		op = client.OpRevoke
	}
	// Ending only takes access away: it happens whether or not its line
	// can be written.
	m.record(peer, audit.Event{Op: op, Decision: audit.Changed, Reason: "ended: " + reason, Grant: g.label})
	m.log.Info("grant ended", zap.String("grant", g.label), zap.String("reason", reason))
	if g.mode == client.GrantSocket {
		if cancel != nil {
			cancel()
		}
		return
	}
	m.removeFile(g)
	m.cleanup(g)
}

// Close ends every grant, removing their sockets and files, and waits until
// they are gone. Grants do not outlive the agent.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	gs := make([]*grant, 0, len(m.grants))
	for _, g := range m.grants {
		gs = append(gs, g)
	}
	m.mu.Unlock()
	close(m.stop)
	<-m.loopDone
	for _, g := range gs {
		m.end(g, EndStopped, m.self)
	}
	m.servers.Wait()
}

func (m *Manager) wake() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

func (m *Manager) loop() {
	defer close(m.loopDone)
	for {
		t := time.NewTimer(m.Tick())
		select {
		case <-m.stop:
			t.Stop()
			return
		case <-m.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// Tick ends the grants whose time is up and refreshes the token files that
// are due, by the Config clock. It returns how long until the next thing is
// due. The manager's own goroutine calls it; tests with a fake clock call
// it too.
func (m *Manager) Tick() time.Duration {
	now := m.now()
	var expired, due []*grant
	m.mu.Lock()
	for _, g := range m.grants {
		g.mu.Lock()
		switch {
		case !now.Before(g.expires):
			expired = append(expired, g)
		case !g.refreshAt.IsZero() && !now.Before(g.refreshAt):
			due = append(due, g)
		}
		g.mu.Unlock()
	}
	m.mu.Unlock()
	for _, g := range expired {
		m.end(g, EndExpired, m.self)
	}
	for _, g := range due {
		m.refresh(g)
	}

	now = m.now()
	next := now.Add(maxSleep)
	m.mu.Lock()
	for _, g := range m.grants {
		g.mu.Lock()
		if g.expires.Before(next) {
			next = g.expires
		}
		if !g.refreshAt.IsZero() && g.refreshAt.Before(next) {
			next = g.refreshAt
		}
		g.mu.Unlock()
	}
	m.mu.Unlock()
	return max(next.Sub(now), 10*time.Millisecond)
}
