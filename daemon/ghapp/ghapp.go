// Package ghapp mints GitHub App installation tokens on demand: it signs
// the app's JWT with its private key, asks GitHub for a token narrowed to
// the repositories and permissions a request needs, shares one mint among
// concurrent requests, keeps each token until shortly before it expires,
// and revokes the tokens it holds. It is the only package that imports the
// JWT library.
package ghapp

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

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
