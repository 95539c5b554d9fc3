// Package ghapp mints GitHub App installation tokens on demand: it signs
// the app's JWT with its private key, asks GitHub for a token narrowed to
// the repositories and permissions a request needs, shares one mint among
// concurrent requests, keeps each token until shortly before it expires,
// and revokes the tokens it holds. It is the only package that imports the
// JWT library.
package ghapp

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github"
)

// Timing of JWTs and cached tokens.
const (
	// Skew backdates a JWT's iat, for a clock that runs ahead of GitHub's.
	Skew = 60 * time.Second
	// JWTLifetime is how far ahead a JWT's exp lies; GitHub refuses more
	// than 10 minutes.
	JWTLifetime = 9 * time.Minute
	// RenewBefore is how long before expires_at a cached token is
	// replaced by a new one.
	RenewBefore = 5 * time.Minute
)

// App is what minting needs to know about a GitHub App.
type App struct {
	// Name is keyfob's name for the app.
	Name string
	ID   int64
	// Installation is the installation's id; 0 means resolve it from
	// Owner.
	Installation int64
	Owner        string
	// Base is the API base URL.
	Base string
	// Key is the app's private key, PEM encoded.
	Key client.Secret
}

// ParseKey checks that pem is an RSA private key in PEM form (PKCS #1, as
// GitHub hands it out, or PKCS #8).
func ParseKey(pem client.Secret) error {
	_, err := parseKey(pem)
	return err
}

func parseKey(pem client.Secret) (*rsa.PrivateKey, error) {
	k, err := jwt.ParseRSAPrivateKeyFromPEM(pem.Bytes()) // borrowed; not kept
	if err != nil {
		// The library's errors name the problem, never the key's bytes.
		return nil, fmt.Errorf("private key: want an RSA private key in PEM form: %w", err)
	}
	return k, nil
}

// SignJWT returns the app's JWT for now: RS256, iat Skew in the past, exp
// JWTLifetime ahead, iss the app's id. The key is parsed for each
// signature, so no parsed key outlives the call.
func SignJWT(app App, now time.Time) (client.Secret, error) {
	k, err := parseKey(app.Key)
	if err != nil {
		return client.Secret{}, err
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		IssuedAt:  jwt.NewNumericDate(now.Add(-Skew)),
		ExpiresAt: jwt.NewNumericDate(now.Add(JWTLifetime)),
		Issuer:    strconv.FormatInt(app.ID, 10),
	})
	s, err := tok.SignedString(k)
	if err != nil {
		return client.Secret{}, fmt.Errorf("sign JWT for app %s: %w", app.Name, err)
	}
	return client.NewSecret(s), nil
}

// Scope narrows a token: repository names (without the owner) and
// permissions ("contents" → "read"). Empty means the whole installation
// and every permission it has.
type Scope struct {
	Repositories []string
	Permissions  map[string]string
}

// Normal returns s with repositories lower-cased, sorted and deduplicated,
// so equal scopes share a cache entry.
func (s Scope) Normal() Scope {
	out := Scope{Permissions: s.Permissions}
	for _, r := range s.Repositories {
		out.Repositories = append(out.Repositories, strings.ToLower(r))
	}
	slices.Sort(out.Repositories)
	out.Repositories = slices.Compact(out.Repositories)
	if len(s.Permissions) == 0 {
		out.Permissions = nil
	}
	return out
}

// String describes the scope for audit lines and status, for example
// "repositories=app permissions=contents:read", or "installation-wide".
func (s Scope) String() string {
	var parts []string
	if len(s.Repositories) > 0 {
		parts = append(parts, "repositories="+strings.Join(s.Repositories, ","))
	}
	if len(s.Permissions) > 0 {
		parts = append(parts, "permissions="+FormatPermissions(s.Permissions))
	}
	if len(parts) == 0 {
		return "installation-wide"
	}
	return strings.Join(parts, " ")
}

// FormatPermissions writes permissions sorted, "contents:read,issues:write".
func FormatPermissions(p map[string]string) string {
	keys := slices.Sorted(maps.Keys(p))
	for i, k := range keys {
		keys[i] = k + ":" + p[k]
	}
	return strings.Join(keys, ",")
}

// Token is a minted installation token and what it is for.
type Token struct {
	App          string
	Installation int64
	Scope        Scope
	Secret       client.Secret
	Expires      time.Time
	Minted       time.Time
	// Granted is what GitHub says the token may do.
	Granted map[string]string
	// Repositories are the full names GitHub scoped the token to.
	Repositories []string
	base         string
}

// Fingerprint names the token in logs and audit lines.
func (t Token) Fingerprint() string { return t.Secret.Fingerprint() }

// copyOut returns t with its own copy of the secret: a revoke wipes the
// cached bytes, and must not reach an answer still being written.
func (t Token) copyOut() Token {
	t.Secret = t.Secret.Clone()
	return t
}

// Problem kinds, each a GitHub answer put in plain words.
const (
	BadKey           = "bad-key"            // 401: the JWT was refused
	NoInstallation   = "no-installation"    // 404: no such installation
	RepoNotInstalled = "repo-not-installed" // 422: repository or permission outside the installation
	Unreachable      = "unreachable"
	Other            = "other"
)

// Error is a mint that failed, with what GitHub said.
type Error struct {
	Kind string
	// Msg is the plain-worded problem, Hint the fix.
	Msg, Hint string
	Err       error
}

func (e *Error) Error() string { return e.Msg + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// explain turns an API failure into an Error that says which problem it
// was.
func explain(app App, inst int64, sc Scope, what string, err error) error {
	var ae *github.APIError
	e := &Error{Kind: Other, Err: err, Msg: fmt.Sprintf("app %s: %s failed", app.Name, what)}
	switch {
	case errors.Is(err, github.ErrUnreachable):
		e.Kind, e.Msg = Unreachable, fmt.Sprintf("app %s: GitHub API unreachable at %s", app.Name, app.Base)
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		e.Kind = BadKey
		e.Msg = fmt.Sprintf("GitHub refused app %s's key (app id %d): the private key does not belong to the app, or was revoked", app.Name, app.ID)
		e.Hint = "download a new private key from the app's settings on GitHub and run keyfob app add again"
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound && inst != 0:
		e.Kind = NoInstallation
		e.Msg = fmt.Sprintf("app %s (app id %d) has no installation %d", app.Name, app.ID, inst)
		e.Hint = "check the installation id (the number in the installation's settings URL), or use --owner"
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		e.Kind = NoInstallation
		e.Msg = fmt.Sprintf("app %s (app id %d) is not installed on %s", app.Name, app.ID, app.Owner)
		e.Hint = "install the app on " + app.Owner + " on GitHub"
	case errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(ae.Message), "permission"):
		e.Kind = RepoNotInstalled
		e.Msg = fmt.Sprintf("app %s's installation %d does not grant permissions %s", app.Name, inst, FormatPermissions(sc.Permissions))
		e.Hint = "grant them to the app on GitHub (and accept them on the installation), or narrow the route's permissions"
	case errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity:
		e.Kind = RepoNotInstalled
		repos := slices.Clone(sc.Repositories)
		for i, r := range repos {
			if app.Owner != "" {
				repos[i] = app.Owner + "/" + r
			}
		}
		e.Msg = fmt.Sprintf("repository %s is not in app %s's installation %d", strings.Join(repos, ", "), app.Name, inst)
		e.Hint = "add the repository to the installation on GitHub, or route it to another token"
	}
	return e
}

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
