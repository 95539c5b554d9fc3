package grant

import (
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/peercred"
)

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
// due. The manager's own goroutine calls it on time.Now; on a clock of
// the caller's (Config.Now), only the caller does.
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
