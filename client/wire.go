// Package client speaks keyfob's wire protocol: it finds the agent's socket,
// dials it, and encodes and decodes messages. It also parses git's credential
// protocol for the helper. It uses the standard library only, because the git
// helper imports it and runs on every fetch.
package client

import (
	"errors"
	"time"
)

// Version is the wire protocol version this package speaks.
const Version = 1

// MaxMessage is the largest message, newline included, either side accepts.
const MaxMessage = 64 << 10

// Operations. docs/protocol.md describes each one.
const (
	OpPing   = "ping"
	OpGet    = "get"
	OpStore  = "store"
	OpErase  = "erase"
	OpToken  = "token"
	OpWhich  = "which"
	OpUnlock = "unlock"
	OpLock   = "lock"
	OpAdd    = "add"
	OpRotate = "rotate"
	OpRemove = "remove"
	OpList   = "list"
	OpStatus = "status"
	OpAppAdd = "app-add"
	OpGrant  = "grant"
	OpGrants = "grants"
	OpRevoke = "revoke"
)

// Error codes. The agent maps every failure to one of these; detail stays in
// its debug log.
const (
	CodeDenied      = "denied"
	CodeNotFound    = "not_found"
	CodeLocked      = "locked"
	CodeBadRequest  = "bad_request"
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
)

// Credential is what git knows about the remote it needs a credential for.
type Credential struct {
	Protocol string `json:"protocol,omitempty"`
	Host     string `json:"host,omitempty"`
	Path     string `json:"path,omitempty"`
	Username string `json:"username,omitempty"`
	// EmptyUsername is set when git sent "username=" with no value (a URL
	// like https://@host/): an explicit empty username, which no token
	// with a username matches. Username is then "".
	EmptyUsername bool `json:"empty_username,omitempty"`
	// PasswordFP is the fingerprint of the password git holds (store and
	// erase). The password itself goes back only with store, in the
	// request's secret.
	PasswordFP string `json:"password_fp,omitempty"`
	// State is keyfob's state[] value git sent back with store or erase
	// (git 2.46 and later): the token keyfob served, by name and
	// fingerprint.
	State string `json:"state,omitempty"`
	// PasswordExpiryUTC is git's password_expiry_utc on store (Unix
	// seconds, 0 for none), kept with a remembered credential.
	PasswordExpiryUTC int64 `json:"password_expiry_utc,omitempty"`
	// EmptyPassword is set on store and erase when git sent "password="
	// with no value; the request's secret is then empty.
	EmptyPassword bool `json:"empty_password,omitempty"`
}

// TokenMeta is what the user says about a token when adding or rotating it.
type TokenMeta struct {
	Hosts       []string  `json:"hosts,omitempty"`
	Username    string    `json:"username,omitempty"`
	Expires     time.Time `json:"expires,omitzero"`
	RotateEvery int64     `json:"rotate_every_s,omitempty"`
	// NoVerify skips validation against the GitHub API.
	NoVerify bool `json:"no_verify,omitempty"`
}

// Request is one message from a client to the agent.
type Request struct {
	V    int         `json:"v"`
	Op   string      `json:"op"`
	Cred *Credential `json:"cred,omitempty"`
	Name string      `json:"name,omitempty"`
	Meta *TokenMeta  `json:"meta,omitempty"`
	// Grant is what grant asks for.
	Grant *GrantSpec `json:"grant,omitempty"`
	// App is what app-add stores.
	App *AppSpec `json:"app,omitempty"`
	// Login is what login-start and login-poll ask for (login.go).
	Login *LoginSpec `json:"login,omitempty"`
	// Secret is the token for add and rotate, the passphrase for unlock,
	// the app's private key (PEM) for app-add, the device code for
	// login-poll, and git's password for store: the agent keeps it only
	// for a host [[remember]] names, and wipes it otherwise.
	Secret Secret `json:"-"`
	// Refresh is git's oauth_refresh_token for store, kept and wiped as
	// Secret is.
	Refresh Secret `json:"-"`
}

// TokenInfo describes one token without its secret.
type TokenInfo struct {
	Name        string    `json:"name"`
	Masked      string    `json:"masked,omitempty"`
	Fingerprint string    `json:"fp,omitempty"`
	Hosts       []string  `json:"hosts"`
	Username    string    `json:"username"`
	State       string    `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	Rotated     time.Time `json:"rotated,omitzero"`
	Expires     time.Time `json:"expires,omitzero"`
	LastUsed    time.Time `json:"last_used,omitzero"`
	RotateEvery int64     `json:"rotate_every_s,omitempty"`
	Login       string    `json:"login,omitempty"`
	Kind        string    `json:"kind,omitempty"`
	Scopes      []string  `json:"scopes,omitempty"`
	Validated   time.Time `json:"validated,omitzero"`
	Validation  string    `json:"validation,omitempty"`
	// RejectedAt is where git last reported a rejection (host/path).
	RejectedAt   string    `json:"rejected_at,omitempty"`
	LastRejected time.Time `json:"last_rejected,omitzero"`
	// SSO lists the organizations that refuse the token until it is
	// authorized for their SAML single sign-on (state sso-required).
	SSO []SSO `json:"sso,omitempty"`
	// Refreshes is set for a user token from keyfob login, which the
	// agent refreshes; RefreshExpires is when its refresh token ends.
	Refreshes      bool      `json:"refreshes,omitempty"`
	RefreshExpires time.Time `json:"refresh_expires,omitzero"`
}

// SSO is an organization that asks for a token's SAML SSO authorization,
// and where to give it.
type SSO struct {
	Org string `json:"org"`
	URL string `json:"url"`
}

// Status describes the agent.
type Status struct {
	Version   int    `json:"version"`
	PID       int    `json:"pid"`
	Backend   string `json:"backend"`
	Locked    bool   `json:"locked"`
	NeedsPass bool   `json:"needs_passphrase,omitempty"`
	// NewKeyring is set while the file backend holds no item yet: the
	// first unlock creates it with the passphrase given.
	NewKeyring bool `json:"new_keyring,omitempty"`
	// KeychainLocked says the keychain itself is locked (the login
	// keyring, the pass store's gpg key, the macOS login keychain): the
	// agent serves nothing until it unlocks, then loads the tokens by
	// itself. It is not an empty keychain.
	KeychainLocked bool   `json:"keychain_locked,omitempty"`
	LockError      string `json:"lock_error,omitempty"`
	// LockHint is how to fix what LockError says, when it is the
	// keychain's doing (locked, or cannot be read); "" when keyfob unlock
	// is the fix.
	LockHint  string `json:"lock_hint,omitempty"`
	Tokens    int    `json:"tokens"`
	Apps      int    `json:"apps,omitempty"`
	Socket    string `json:"socket,omitempty"`
	AuditLog  string `json:"audit_log,omitempty"`
	Config    string `json:"config,omitempty"`
	ConfigErr string `json:"config_error,omitempty"`
	// RouteErrs are routes in force that cannot answer with the tokens
	// there are (unknown token, host outside its allowlist), each
	// "file:line: message". Such a route answers nothing.
	RouteErrs []string `json:"route_errors,omitempty"`
}

// Candidate is one token considered for a request, with why it did or did
// not answer.
type Candidate struct {
	Token  string `json:"token"`
	Chosen bool   `json:"chosen,omitempty"`
	Reason string `json:"reason"`
}

// Response is the agent's answer to one Request.
type Response struct {
	V     int    `json:"v"`
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`

	Username    string `json:"username,omitempty"`
	Token       string `json:"token,omitempty"`
	Fingerprint string `json:"fp,omitempty"`
	Route       string `json:"route,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Expiry is the token's expiry in Unix seconds, 0 when unknown.
	Expiry     int64       `json:"expiry,omitempty"`
	Warnings   []string    `json:"warnings,omitempty"`
	Tokens     []TokenInfo `json:"tokens,omitempty"`
	Apps       []AppInfo   `json:"apps,omitempty"`
	Candidates []Candidate `json:"candidates,omitempty"`
	Status     *Status     `json:"status,omitempty"`
	Grants     []GrantInfo `json:"grants,omitempty"`
	// Login is what login-start and a pending login-poll answer.
	Login *LoginInfo `json:"login,omitempty"`
	// Secret is the token handed out by get and token, the password of a
	// remembered credential, or the device code login-start answers.
	Secret Secret `json:"-"`
	// Refresh is a remembered credential's oauth_refresh_token.
	Refresh Secret `json:"-"`
	// Remembered marks an answer from a remembered credential: git gets
	// its username and password as stored, even empty ones.
	Remembered bool `json:"remembered,omitempty"`
	// PasswordExpired marks a remembered answer whose password has
	// expired: it carries the username and the refresh token only, for
	// the next helper (git-credential-oauth) to refresh.
	PasswordExpired bool `json:"password_expired,omitempty"`
	// MintFailed is set inside the agent when a GitHub App mint failed
	// for this answer; a grant counts it as a use. It never travels.
	MintFailed bool `json:"-"`
}

// Err returns the response's error, or nil when it succeeded.
func (r *Response) Err() error {
	if r.Code == "" {
		return nil
	}
	return &Error{Code: r.Code, Message: r.Error, Hint: r.Hint}
}

// Error is a failure reported by the agent.
type Error struct {
	Code    string
	Message string
	Hint    string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Message
}

// IsCode reports whether err is an agent error with the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
