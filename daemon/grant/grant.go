// Package grant gives a sandbox scoped, expiring access to a few
// repositories: a socket of its own that answers git's get for those
// repositories and nothing else, or the token written to a file. Grants live
// in the agent's memory only. Each one ends at its expiry, when revoked,
// after its last allowed use, or when the agent stops, and its socket or
// file goes with it.
package grant

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/policy"
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
	// Now is the clock; nil means time.Now. A manager on a clock of its
	// caller's has no goroutine of its own, since a real timer cannot
	// follow that clock: the caller calls Tick.
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
// expiry and refreshes token files (on time.Now; see Config.Now). It first removes the sockets and files
// that an agent which did not stop cleanly left in cfg.Dir.
func New(cfg Config) *Manager {
	ownClock := cfg.Now == nil
	if ownClock {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	m := &Manager{cfg: cfg, log: cfg.Log, grants: map[string]*grant{},
		self: peercred.Cred{UID: os.Getuid(), PID: os.Getpid()},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), loopDone: make(chan struct{})}
	m.removeLeftovers()
	if ownClock {
		go m.loop()
	} else {
		close(m.loopDone)
	}
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
