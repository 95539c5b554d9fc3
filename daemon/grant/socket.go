package grant

import (
	"context"
	"os"
	"slices"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/listen"
	"github.com/keyfob/keyfob/daemon/server"
)

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
		return m.cfg.Agent.Failure(client.CodeUnavailable, "grant socket "+g.path, err)
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
		return m.cfg.Agent.Failure(client.CodeUnavailable, "grant directory "+m.cfg.Dir, err)
	}
	if err := listen.CheckDir(m.cfg.Dir); err != nil {
		return m.cfg.Agent.Failure(client.CodeUnavailable, "grant directory", err)
	}
	if err := os.Mkdir(g.ownDir, 0o700); err != nil {
		return m.cfg.Agent.Failure(client.CodeUnavailable, "grant directory "+g.ownDir, err)
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
