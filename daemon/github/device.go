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

	"github.com/keyfob/keyfob/client"
)

// OAuth error codes GitHub answers the device flow and a refresh with
// (HTTP 200 with an "error" field).
const (
	ErrCodePending          = "authorization_pending"
	ErrCodeSlowDown         = "slow_down"
	ErrCodeExpired          = "expired_token"
	ErrCodeDenied           = "access_denied"
	ErrCodeClientID         = "incorrect_client_credentials"
	ErrCodeDeviceCode       = "incorrect_device_code"
	ErrCodeDeviceFlowOff    = "device_flow_disabled"
	ErrCodeBadRefreshToken  = "bad_refresh_token"
	ErrCodeUnsupportedGrant = "unsupported_grant_type"
)

// DeviceGrant and RefreshGrant are the grant_type values of the token
// endpoint.
const (
	DeviceGrant  = "urn:ietf:params:oauth:grant-type:device_code"
	RefreshGrant = "refresh_token"
)

// OAuthError is GitHub's answer with an "error" field.
type OAuthError struct {
	Code        string
	Description string
	// Interval is the new polling interval that comes with slow_down.
	Interval time.Duration
}

func (e *OAuthError) Error() string {
	if e.Description != "" {
		return e.Code + ": " + e.Description
	}
	return e.Code
}

// OAuthCode returns the OAuth error code in err, "" when there is none.
func OAuthCode(err error) string {
	var oe *OAuthError
	if errors.As(err, &oe) {
		return oe.Code
	}
	return ""
}

// DeviceAuth is the answer to POST /login/device/code.
type DeviceAuth struct {
	// DeviceCode is what the token endpoint is polled with. It is a
	// secret: whoever holds it gets the token once the user approves.
	DeviceCode      client.Secret
	UserCode        string
	VerificationURI string
	Interval        time.Duration
	ExpiresIn       time.Duration
}

// UserToken is a user access token and its refresh token, as the token
// endpoint answers them.
type UserToken struct {
	Access  client.Secret
	Refresh client.Secret
	// Expires and RefreshExpires are zero when GitHub sent no lifetime
	// (an OAuth App, or an App with expiring tokens turned off).
	Expires        time.Time
	RefreshExpires time.Time
	Scope          string
}

// Wipe overwrites both secrets.
func (t UserToken) Wipe() {
	t.Access.Wipe()
	t.Refresh.Wipe()
}

// OAuth talks to a GitHub's web base (https://github.com, https://HOST on
// Enterprise Server) for the device flow and refreshes.
type OAuth struct {
	Web  string
	HTTP *http.Client
	// Now is the clock for expiry times; nil means time.Now.
	Now func() time.Time
}

// NewOAuth returns an OAuth client for the web base web.
func NewOAuth(web string) *OAuth {
	return &OAuth{Web: strings.TrimSuffix(web, "/"), HTTP: &http.Client{Timeout: 15 * time.Second}}
}

func (o *OAuth) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// post sends form to path with Accept: application/json and returns the
// body. form may hold a secret: it is built in a buffer of ours, wiped
// after the call.
func (o *OAuth) post(ctx context.Context, path string, form []byte) ([]byte, error) {
	defer clear(form)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.Web+path, bytes.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "keyfob")
	resp, err := o.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if resp.StatusCode >= 500 {
		clear(body)
		return nil, fmt.Errorf("%w: POST %s answered %d", ErrUnreachable, o.Web+path, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		// A wrong client id answers 404 on some GitHubs; an error
		// field, when there is one, says more.
		if oe := oauthError(body); oe != nil {
			clear(body)
			return nil, oe
		}
		clear(body)
		if resp.StatusCode == http.StatusNotFound && path == "/login/device/code" {
			return nil, &OAuthError{Code: ErrCodeClientID, Description: "POST " + o.Web + path + " answered 404"}
		}
		return nil, &APIError{Status: resp.StatusCode, URL: o.Web + path}
	}
	if oe := oauthError(body); oe != nil {
		clear(body)
		return nil, oe
	}
	return body, nil
}

func oauthError(body []byte) *OAuthError {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Interval    int    `json:"interval"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return nil
	}
	return &OAuthError{Code: e.Error, Description: e.Description, Interval: time.Duration(e.Interval) * time.Second}
}

// form builds an x-www-form-urlencoded body from plain pairs and, last,
// one secret pair (secretKey "" for none), without a string of the secret.
func form(pairs []string, secretKey string, secret client.Secret) []byte {
	var b []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		if len(b) > 0 {
			b = append(b, '&')
		}
		b = append(b, url.QueryEscape(pairs[i])+"="+url.QueryEscape(pairs[i+1])...)
	}
	if secretKey == "" {
		return b
	}
	out := make([]byte, 0, len(b)+1+len(secretKey)+1+3*secret.Len())
	out = append(append(append(append(out, b...), '&'), secretKey...), '=')
	const hex = "0123456789ABCDEF"
	for _, c := range secret.Bytes() {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			out = append(out, c)
		} else {
			out = append(out, '%', hex[c>>4], hex[c&15])
		}
	}
	return out
}

// DeviceCode starts the device flow for clientID (POST /login/device/code).
func (o *OAuth) DeviceCode(ctx context.Context, clientID, scope string) (DeviceAuth, error) {
	pairs := []string{"client_id", clientID}
	if scope != "" {
		pairs = append(pairs, "scope", scope)
	}
	body, err := o.post(ctx, "/login/device/code", form(pairs, "", client.Secret{}))
	defer clear(body)
	if err != nil {
		return DeviceAuth{}, err
	}
	var in struct {
		DeviceCode      json.RawMessage `json:"device_code"`
		UserCode        string          `json:"user_code"`
		VerificationURI string          `json:"verification_uri"`
		ExpiresIn       int             `json:"expires_in"`
		Interval        int             `json:"interval"`
	}
	err = json.Unmarshal(body, &in)
	defer clear(in.DeviceCode)
	if err != nil || in.UserCode == "" || len(in.DeviceCode) == 0 {
		return DeviceAuth{}, fmt.Errorf("%w: POST %s/login/device/code: unexpected answer", ErrUnreachable, o.Web)
	}
	dc, err := client.DecodeSecretJSON(in.DeviceCode)
	if err != nil || dc.IsZero() {
		return DeviceAuth{}, fmt.Errorf("%w: POST %s/login/device/code: unexpected answer", ErrUnreachable, o.Web)
	}
	return DeviceAuth{DeviceCode: dc, UserCode: in.UserCode, VerificationURI: in.VerificationURI,
		Interval: time.Duration(in.Interval) * time.Second, ExpiresIn: time.Duration(in.ExpiresIn) * time.Second}, nil
}

// PollDevice asks once whether the user approved deviceCode. Until then
// it answers an *OAuthError: authorization_pending, or slow_down with the
// new interval.
func (o *OAuth) PollDevice(ctx context.Context, clientID string, deviceCode client.Secret) (UserToken, error) {
	return o.token(ctx, form([]string{"client_id", clientID, "grant_type", DeviceGrant}, "device_code", deviceCode))
}

// Refresh exchanges a refresh token for a new pair. GitHub invalidates the
// refresh token (and the access token it came with) at once: persist the
// new pair before anything uses it. A device-flow token needs no client
// secret.
func (o *OAuth) Refresh(ctx context.Context, clientID string, refresh client.Secret) (UserToken, error) {
	return o.token(ctx, form([]string{"client_id", clientID, "grant_type", RefreshGrant}, "refresh_token", refresh))
}

func (o *OAuth) token(ctx context.Context, f []byte) (UserToken, error) {
	body, err := o.post(ctx, "/login/oauth/access_token", f)
	defer clear(body)
	if err != nil {
		return UserToken{}, err
	}
	var in struct {
		Access         json.RawMessage `json:"access_token"`
		Refresh        json.RawMessage `json:"refresh_token"`
		ExpiresIn      int64           `json:"expires_in"`
		RefreshExpires int64           `json:"refresh_token_expires_in"`
		Scope          string          `json:"scope"`
	}
	err = json.Unmarshal(body, &in)
	defer clear(in.Access)
	defer clear(in.Refresh)
	bad := fmt.Errorf("%w: POST %s/login/oauth/access_token: unexpected answer", ErrUnreachable, o.Web)
	if err != nil || len(in.Access) == 0 {
		return UserToken{}, bad
	}
	var t UserToken
	if t.Access, err = client.DecodeSecretJSON(in.Access); err != nil || t.Access.IsZero() {
		return UserToken{}, bad
	}
	if len(in.Refresh) > 0 {
		if t.Refresh, err = client.DecodeSecretJSON(in.Refresh); err != nil {
			t.Access.Wipe()
			return UserToken{}, bad
		}
	}
	now := o.now().UTC().Truncate(time.Second)
	if in.ExpiresIn > 0 {
		t.Expires = now.Add(time.Duration(in.ExpiresIn) * time.Second)
	}
	if in.RefreshExpires > 0 {
		t.RefreshExpires = now.Add(time.Duration(in.RefreshExpires) * time.Second)
	}
	t.Scope = in.Scope
	return t, nil
}
