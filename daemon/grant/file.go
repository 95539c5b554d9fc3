package grant

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/peercred"
)

// Refresh timing for a file whose token expires before the grant. The
// first attempt is refreshLead before the token expires: inside the window
// in which the App token cache mints a new token rather than reuse the one
// it has (ghapp.RenewBefore, 5 minutes). A failed attempt is retried after
// retryAfter. When the route still gives the same token, the next attempt
// is halfway to its expiry, until less than 2*minRetry is left.
const (
	refreshLead = 4 * time.Minute
	retryAfter  = time.Minute
	minRetry    = 15 * time.Second
)

// token asks the agent for the grant's token, through its one path, once per
// granted repository: a file holds one token, so they must all get the same.
func (m *Manager) token(ctx context.Context, peer peercred.Cred, g *grant) (*client.Response, *client.Response) {
	var first *client.Response
	for i := range g.creds {
		c := g.creds[i]
		r := m.cfg.Agent.Resolve(ctx, peer, &client.Request{Op: client.OpToken, Cred: &c}, client.OpGrant, g.label, g.bound[i])
		if r.Code != "" {
			if first != nil {
				first.Secret.Wipe()
			}
			return nil, errResp(r.Code, g.urls[i]+": "+r.Error, r.Hint)
		}
		if first == nil {
			first = r
			continue
		}
		same := r.Secret.Equal(first.Secret)
		r.Secret.Wipe()
		if !same {
			first.Secret.Wipe()
			return nil, errResp(client.CodeBadRequest,
				fmt.Sprintf("%s and %s get different tokens, and a file holds one", g.urls[0], g.urls[i]),
				"make one file grant per token, or use a socket grant")
		}
	}
	return first, nil
}

func (g *grant) scheduleRefresh(now time.Time, expiry int64) {
	g.tokExpiry, g.refreshAt = time.Time{}, time.Time{}
	if expiry == 0 {
		return
	}
	exp := time.Unix(expiry, 0)
	g.tokExpiry = exp
	if !exp.Before(g.expires) {
		return
	}
	g.refreshAt = exp.Add(-refreshLead)
	if g.refreshAt.Before(now) {
		g.refreshAt = now
	}
}

// openFile writes the grant's token to its path: created exclusively, mode
// 0600, no trailing newline.
func (m *Manager) openFile(ctx context.Context, peer peercred.Cred, g *grant) *client.Response {
	if r := m.makeOwnDir(g); r != nil {
		return r
	}
	r, fail := m.token(ctx, peer, g)
	if fail != nil {
		return fail
	}
	defer r.Secret.Wipe()
	fi, err := writeToken(g.path, r.Secret)
	if errors.Is(err, os.ErrExist) {
		return errResp(client.CodeBadRequest, "grant file "+g.path+" exists", "keyfob never overwrites a file: remove it or choose another path")
	}
	if err != nil {
		return m.cfg.Agent.Failure(client.CodeUnavailable, "grant file "+g.path, err)
	}
	g.mu.Lock()
	g.file, g.uses = fi, 1
	g.scheduleRefresh(m.now(), r.Expiry)
	ended := g.ended // by Close, while the file was being written
	g.mu.Unlock()
	if ended {
		os.Remove(g.path)
		return errResp(client.CodeUnavailable, "the agent is stopping", "")
	}
	return nil
}

// writeToken creates path exclusively with mode 0600 and writes s to it.
func writeToken(path string, s client.Secret) (os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return finish(f, s)
}

func finish(f *os.File, s client.Secret) (os.FileInfo, error) {
	_, err := f.Write(s.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return os.Lstat(f.Name())
}

// refresh rewrites a grant's file with a newer token before the one in it
// expires: a new file beside it, renamed over it, so a reader sees the old
// token or the new one, never part of either.
func (m *Manager) refresh(g *grant) {
	r, fail := m.token(context.Background(), m.self, g)
	now := m.now()
	if fail != nil {
		m.log.Warn("grant file not refreshed; retrying", zap.String("grant", g.label), zap.String("error", fail.Error))
		g.mu.Lock()
		g.refreshAt = now.Add(retryAfter)
		g.mu.Unlock()
		return
	}
	defer r.Secret.Wipe()
	// The record names the file by its identity, which a refresh changes:
	// it is written again (after g.mu is released), so the next agent
	// still removes the file if this one crashes.
	refreshed := false
	defer func() {
		if refreshed {
			m.saveRecord(g)
		}
	}()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return
	}
	if !time.Unix(r.Expiry, 0).After(g.tokExpiry) {
		// The same token: a cache still reuses it, or the route's token
		// is a PAT with an expiry and nothing newer is to be had.
		if left := g.tokExpiry.Sub(now); left/2 >= minRetry {
			g.refreshAt = now.Add(left / 2)
			return
		}
		m.log.Warn("grant file's token expires before the grant, and no newer token is to be had",
			zap.String("grant", g.label), zap.Time("token_expires", g.tokExpiry))
		g.refreshAt = time.Time{}
		return
	}
	if cur, err := os.Lstat(g.path); err != nil || !os.SameFile(cur, g.file) {
		m.log.Warn("grant file was moved or replaced; not refreshing it", zap.String("grant", g.label), zap.String("path", g.path))
		g.refreshAt = time.Time{}
		return
	}
	f, err := os.CreateTemp(filepath.Dir(g.path), "."+filepath.Base(g.path)+".*")
	var fi os.FileInfo
	if err == nil {
		if fi, err = finish(f, r.Secret); err == nil {
			if err = os.Rename(f.Name(), g.path); err != nil {
				os.Remove(f.Name())
			}
		}
	}
	if err != nil {
		m.log.Warn("grant file not refreshed; retrying", zap.String("grant", g.label), zap.Error(err))
		g.refreshAt = now.Add(retryAfter)
		return
	}
	g.file = fi
	refreshed = true
	g.uses++
	g.scheduleRefresh(now, r.Expiry)
	m.log.Info("grant file refreshed", zap.String("grant", g.label), zap.Time("token_expires", g.tokExpiry))
}

// removeFile removes the grant's file if it is still the one keyfob wrote.
func (m *Manager) removeFile(g *grant) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.file == nil {
		return
	}
	cur, err := os.Lstat(g.path)
	if err != nil || !os.SameFile(cur, g.file) {
		return
	}
	if err := os.Remove(g.path); err != nil {
		m.log.Error("remove grant file", zap.String("grant", g.label), zap.String("path", g.path), zap.Error(err))
	}
}
