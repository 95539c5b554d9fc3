package ghapp

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keyfob/keyfob/daemon/github"
)

// Minter mints installation tokens and caches them, keyed by (app,
// installation, repositories, permissions).
type Minter struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTP is the client for API calls; nil means a 10 s timeout.
	HTTP *http.Client

	mu       sync.Mutex
	cache    map[string]*flight
	installs map[string]int64 // "base app owner" -> installation id
	// joined, if set, is called when a request waits for a mint already
	// under way (tests).
	joined func()
}

// flight is one mint: requests that arrive while it runs wait on done and
// share its result.
type flight struct {
	app  string
	done chan struct{}
	tok  Token
	err  error
	// dropped is set when a revoke came while the mint was under way:
	// its token is revoked as soon as it arrives, never handed out.
	dropped bool
	// failedUntil, for a mint that failed, is until when its error is
	// the answer for the same key, without asking GitHub again.
	failedUntil time.Time
}

// FailureTTL is how long a failed mint is remembered per (installation,
// repositories, permissions): a sandbox or a loop retrying a repository the
// app cannot reach gets the same answer without hammering the API.
const FailureTTL = 30 * time.Second

// ErrDropped is returned to requests whose mint was overtaken by a revoke
// (a lock, or the app's removal).
var ErrDropped = errors.New("the app's tokens were revoked while this one was being minted")

func (m *Minter) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Minter) api(base string) *github.Client {
	c := github.New(base)
	if m.HTTP != nil {
		c.HTTP = m.HTTP
	}
	return c
}

func cacheKey(app App, inst int64, sc Scope) string {
	return app.Name + "\x00" + app.Base + "\x00" + strconv.FormatInt(app.ID, 10) + "\x00" + strconv.FormatInt(inst, 10) + "\x00" +
		strings.Join(sc.Repositories, ",") + "\x00" + FormatPermissions(sc.Permissions)
}

// Get returns a token for app narrowed to sc: a cached one that is good for
// more than RenewBefore, the result of a mint already under way for the
// same key, or a new one. minted reports whether this call minted it. The
// returned secret is the caller's own copy.
func (m *Minter) Get(ctx context.Context, app App, sc Scope) (tok Token, minted bool, err error) {
	sc = sc.Normal()
	inst, err := m.Installation(ctx, app)
	if err != nil {
		return Token{}, false, err
	}
	key := cacheKey(app, inst, sc)
	m.mu.Lock()
	if m.cache == nil {
		m.cache = map[string]*flight{}
	}
	if f := m.cache[key]; f != nil {
		select {
		case <-f.done:
			if f.err != nil && m.now().Before(f.failedUntil) {
				err := f.err
				m.mu.Unlock()
				return Token{}, false, err
			}
			if f.err == nil && m.now().Before(f.tok.Expires.Add(-RenewBefore)) {
				t := f.tok.copyOut()
				m.mu.Unlock()
				return t, false, nil
			}
			// Due for renewal: the old token is left to expire (within
			// RenewBefore) and a new one takes its place.
			delete(m.cache, key)
		default:
			joined := m.joined
			m.mu.Unlock()
			if joined != nil {
				joined()
			}
			select {
			case <-f.done:
			case <-ctx.Done():
				return Token{}, false, ctx.Err()
			}
			if f.err != nil {
				return Token{}, false, f.err
			}
			// Copy under the lock: a revoke wipes the cached bytes.
			m.mu.Lock()
			defer m.mu.Unlock()
			if f.tok.Secret.IsZero() || f.tok.Secret.Bytes()[0] == 0 {
				return Token{}, false, ErrDropped
			}
			return f.tok.copyOut(), false, nil
		}
	}
	f := &flight{app: app.Name, done: make(chan struct{})}
	m.cache[key] = f
	m.mu.Unlock()

	t, err := m.mint(ctx, app, inst, sc)
	m.mu.Lock()
	dropped := f.dropped
	if dropped && err == nil {
		err = ErrDropped
	}
	f.tok, f.err = t, err
	if err != nil && m.cache[key] == f {
		var ge *Error
		if errors.As(err, &ge) {
			// GitHub answered (or could not be reached): remember it.
			f.failedUntil = m.now().Add(FailureTTL)
		} else {
			delete(m.cache, key)
		}
	}
	var out Token
	if err == nil {
		out = t.copyOut() // under the lock: a revoke wipes the cached bytes
	}
	close(f.done)
	m.mu.Unlock()
	if dropped && !t.Secret.IsZero() {
		_ = m.RevokeToken(context.WithoutCancel(ctx), t)
	}
	if err != nil {
		return Token{}, false, err
	}
	return out, true, nil
}

// Cached lists the cached tokens (with copies of their secrets, for
// masking) whose app passes keep, or all of them when keep is nil.
func (m *Minter) Cached(keep func(app string) bool) []Token {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Token
	for _, f := range m.cache {
		select {
		case <-f.done:
		default:
			continue
		}
		if f.err == nil && (keep == nil || keep(f.tok.App)) {
			out = append(out, f.tok.copyOut())
		}
	}
	slices.SortFunc(out, func(a, b Token) int { return strings.Compare(a.App+" "+a.Scope.String(), b.App+" "+b.Scope.String()) })
	return out
}

// Forget drops the cached token with fingerprint fp (a remote rejected
// it) and returns it, so the next request mints a new one.
func (m *Minter) Forget(fp string) (Token, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, f := range m.cache {
		select {
		case <-f.done:
		default:
			continue
		}
		if f.err == nil && f.tok.Fingerprint() == fp {
			delete(m.cache, k)
			return f.tok, true
		}
	}
	return Token{}, false
}
