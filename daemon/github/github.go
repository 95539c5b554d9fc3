// Package github talks to the GitHub REST API for keyfob: it validates
// tokens (who they belong to, their scopes and expiry) and reads what a
// rejection means. It never logs or returns a token.
package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unsafe"

	"github.com/keyfob/keyfob/client"
)

// DefaultAPI is github.com's API base.
const DefaultAPI = "https://api.github.com"

// Token kinds, from the token's prefix.
const (
	KindClassic     = "classic"
	KindFineGrained = "fine-grained"
	KindOAuth       = "oauth"
	KindApp         = "app"
	KindUnknown     = "unknown"
)

// KindOf names a token's kind from its prefix.
func KindOf(s client.Secret) string {
	v := s.Bytes() // borrowed
	has := func(p string) bool { return bytes.HasPrefix(v, []byte(p)) }
	switch {
	case has("github_pat_"):
		return KindFineGrained
	case has("ghp_"):
		return KindClassic
	case has("gho_"):
		return KindOAuth
	case has("ghs_"), has("ghu_"):
		return KindApp
	}
	return KindUnknown
}

// ExpirationLayout is the format of GitHub-Authentication-Token-Expiration.
const ExpirationLayout = "2006-01-02 15:04:05 MST"

// ParseExpiration reads GitHub-Authentication-Token-Expiration
// ("2026-12-31 23:59:59 UTC"; GitHub has also sent a numeric zone).
func ParseExpiration(v string) (time.Time, error) {
	for _, layout := range []string{ExpirationLayout, "2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, strings.TrimSpace(v)); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable token expiration %q", v)
}

// Validation is what the API says about a token.
type Validation struct {
	Login   string
	Kind    string
	Scopes  []string // nil when GitHub sent no X-OAuth-Scopes (fine-grained tokens)
	Expires time.Time
}

// APIError is an answer with an error status.
type APIError struct {
	Status  int
	Message string
	// Accepted is X-Accepted-GitHub-Permissions: what the endpoint needs.
	Accepted string
	// SSO is the authorization URL of a 403 with X-GitHub-SSO:
	// required; url=…: the token must be authorized for an organization
	// that enforces SAML single sign-on. "" otherwise.
	SSO string
	// URL is the request's URL, for messages.
	URL string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("GitHub API answered %d", e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Accepted != "" {
		msg += " (needs " + e.Accepted + ")"
	}
	if e.SSO != "" {
		msg += " (SAML SSO: authorize the token at " + e.SSO + ")"
	}
	return msg
}

// SSORequired returns the authorization URL and organization when err is
// GitHub's 403 for a token not authorized for SAML single sign-on.
func SSORequired(err error) (url, org string, ok bool) {
	var e *APIError
	if !errors.As(err, &e) || e.SSO == "" {
		return "", "", false
	}
	return e.SSO, SSOOrg(e.SSO), true
}

// IsInvalid reports whether err means the token itself is rejected (401).
func IsInvalid(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusUnauthorized
}

// ErrUnreachable wraps network failures: the token could not be checked.
var ErrUnreachable = errors.New("GitHub API unreachable")

// Client calls one API base.
type Client struct {
	Base string
	HTTP *http.Client
}

// New returns a client for base with a short timeout.
func New(base string) *Client {
	return &Client{Base: strings.TrimSuffix(base, "/"), HTTP: &http.Client{Timeout: 10 * time.Second}}
}

func (c *Client) do(ctx context.Context, method, path string, tok client.Secret) (*http.Response, []byte, error) {
	return c.send(ctx, method, path, "token", tok, nil)
}

// send makes one API call authenticated as "scheme tok" (token for tokens,
// Bearer for an app's JWT), with body as its JSON body when not nil.
func (c *Client) send(ctx context.Context, method, path, scheme string, tok client.Secret, reqBody []byte) (*http.Response, []byte, error) {
	var rd io.Reader
	if reqBody != nil {
		rd = bytes.NewReader(reqBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "keyfob")
	// net/http takes header values as strings. This one is laid over a
	// buffer of ours, wiped when the call is over, rather than built with
	// Reveal: a string of its own could not be wiped. net/http's own
	// buffers still copy it (docs/security.md).
	auth := make([]byte, 0, len(scheme)+1+tok.Len())
	auth = append(append(append(auth, scheme...), ' '), tok.Bytes()...)
	defer clear(auth)
	req.Header.Set("Authorization", unsafe.String(unsafe.SliceData(auth), len(auth)))
	if reqBody != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// net/http errors carry the URL, never the header. Both stay
		// in the chain: errors.Is finds ErrUnreachable and the cause
		// (a timeout, a context ended).
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if resp.StatusCode >= 300 {
		e := &APIError{Status: resp.StatusCode, Accepted: resp.Header.Get("X-Accepted-GitHub-Permissions"), URL: c.Base + path}
		if resp.StatusCode == http.StatusForbidden {
			e.SSO, _ = ParseSSO(resp.Header.Get("X-GitHub-SSO"))
		}
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &m) == nil {
			e.Message = m.Message
		}
		return resp, body, e
	}
	return resp, body, nil
}

// Validate checks tok with GET /user.
func (c *Client) Validate(ctx context.Context, tok client.Secret) (Validation, error) {
	resp, body, err := c.do(ctx, http.MethodGet, "/user", tok)
	if err != nil {
		return Validation{}, err
	}
	var u struct {
		Login string `json:"login"`
	}
	if err := json.Unmarshal(body, &u); err != nil || u.Login == "" {
		return Validation{}, fmt.Errorf("%w: GET /user: unexpected answer", ErrUnreachable)
	}
	v := Validation{Login: u.Login, Kind: KindOf(tok)}
	if h, ok := resp.Header["X-Oauth-Scopes"]; ok {
		v.Scopes = []string{}
		for _, s := range strings.Split(strings.Join(h, ","), ",") {
			if s = strings.TrimSpace(s); s != "" {
				v.Scopes = append(v.Scopes, s)
			}
		}
	}
	if h := resp.Header.Get("GitHub-Authentication-Token-Expiration"); h != "" {
		if v.Expires, err = ParseExpiration(h); err != nil {
			return Validation{}, err
		}
	}
	return v, nil
}

// Org checks tok against GET /orgs/OWNER. An organization that enforces
// SAML single sign-on answers 403 with X-GitHub-SSO (SSORequired) until
// the token is authorized there; a user, not an organization, is 404.
func (c *Client) Org(ctx context.Context, tok client.Secret, owner string) error {
	_, _, err := c.do(ctx, http.MethodGet, "/orgs/"+url.PathEscape(owner), tok)
	return err
}

// RepoAccess checks tok against GET /repos/OWNER/REPO. A 403 carries
// X-Accepted-GitHub-Permissions, naming what the token lacks.
func (c *Client) RepoAccess(ctx context.Context, tok client.Secret, owner, repo string) error {
	_, _, err := c.do(ctx, http.MethodGet, "/repos/"+owner+"/"+repo, tok)
	return err
}
