package ghapp

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/keyfob/keyfob/daemon/github"
)

// Installation returns app's installation id, resolving app.Owner through
// the API once and caching the answer.
func (m *Minter) Installation(ctx context.Context, app App) (int64, error) {
	if app.Installation != 0 {
		return app.Installation, nil
	}
	if app.Owner == "" {
		return 0, fmt.Errorf("app %s has neither an installation id nor an owner", app.Name)
	}
	key := app.Base + " " + strconv.FormatInt(app.ID, 10) + " " + strings.ToLower(app.Owner)
	m.mu.Lock()
	id, ok := m.installs[key]
	m.mu.Unlock()
	if ok {
		return id, nil
	}
	inst, err := m.Lookup(ctx, app)
	if err != nil {
		return 0, err
	}
	m.mu.Lock()
	if m.installs == nil {
		m.installs = map[string]int64{}
	}
	m.installs[key] = inst.ID
	m.mu.Unlock()
	return inst.ID, nil
}

// Lookup asks the API about app's installation: by id when it has one,
// else by owner (organization, then user).
func (m *Minter) Lookup(ctx context.Context, app App) (github.Installation, error) {
	jwt, err := SignJWT(app, m.now())
	if err != nil {
		return github.Installation{}, err
	}
	defer jwt.Wipe()
	var inst github.Installation
	if app.Installation != 0 {
		inst, err = m.api(app.Base).AppInstallation(ctx, jwt, app.Installation)
	} else {
		inst, err = m.api(app.Base).OwnerInstallation(ctx, jwt, app.Owner)
	}
	if err != nil {
		return github.Installation{}, explain(app, app.Installation, Scope{}, "installation lookup", err)
	}
	return inst, nil
}

func (m *Minter) mint(ctx context.Context, app App, inst int64, sc Scope) (Token, error) {
	now := m.now()
	jwt, err := SignJWT(app, now)
	if err != nil {
		return Token{}, err
	}
	defer jwt.Wipe()
	it, err := m.api(app.Base).CreateInstallationToken(ctx, jwt, inst, github.TokenRequest{Repositories: sc.Repositories, Permissions: sc.Permissions})
	if err != nil {
		return Token{}, explain(app, inst, sc, "minting a token", err)
	}
	return Token{App: app.Name, Installation: inst, Scope: sc, Secret: it.Token, Expires: it.Expires, Minted: now,
		Granted: it.Permissions, Repositories: it.Repositories, base: app.Base}, nil
}

// Mint mints a token for app without caching it (keyfob app add uses it to
// check the app, then revokes it).
func (m *Minter) Mint(ctx context.Context, app App, sc Scope) (Token, error) {
	inst, err := m.Installation(ctx, app)
	if err != nil {
		return Token{}, err
	}
	return m.mint(ctx, app, inst, sc.Normal())
}

// Revoked is the outcome of revoking one cached token.
type Revoked struct {
	Token Token // its secret already wiped
	FP    string
	Err   error
}

// Revoke drops the cached tokens whose app passes match (all when match is
// nil) and revokes each with DELETE /installation/token, concurrently and
// best effort: a token that cannot be revoked still expires within the
// hour. It forgets resolved installations of those apps too.
func (m *Minter) Revoke(ctx context.Context, match func(app string) bool) []Revoked {
	m.mu.Lock()
	var toks []Token
	for k, f := range m.cache {
		if match != nil && !match(f.app) {
			continue
		}
		select {
		case <-f.done:
		default:
			// A mint under way: its token is revoked when it arrives.
			f.dropped = true
			delete(m.cache, k)
			continue
		}
		delete(m.cache, k)
		if f.err == nil {
			toks = append(toks, f.tok)
		}
	}
	if match == nil {
		m.installs = nil
	}
	m.mu.Unlock()

	out := make([]Revoked, len(toks))
	var wg sync.WaitGroup
	for i, t := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = Revoked{Token: t, FP: t.Fingerprint()}
			if t.Expires.After(m.now()) {
				out[i].Err = m.api(t.base).RevokeInstallationToken(ctx, t.Secret)
			}
			t.Secret.Wipe()
		}()
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b Revoked) int { return strings.Compare(a.Token.Scope.String(), b.Token.Scope.String()) })
	return out
}

// RevokeToken revokes one token that was never cached (keyfob app add's
// check) and wipes it.
func (m *Minter) RevokeToken(ctx context.Context, t Token) error {
	defer t.Secret.Wipe()
	return m.api(t.base).RevokeInstallationToken(ctx, t.Secret)
}
