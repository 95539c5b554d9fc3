// Package client speaks keyfob's wire protocol: it finds the agent's socket,
// dials it, and encodes and decodes messages. It also parses git's credential
// protocol for the helper. It uses the standard library only, because the git
// helper imports it and runs on every fetch.
package client

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf16"
	"unicode/utf8"
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
	// keyring): the agent serves nothing until it unlocks, then loads the
	// tokens by itself. It is not an empty keychain.
	KeychainLocked bool   `json:"keychain_locked,omitempty"`
	LockError      string `json:"lock_error,omitempty"`
	Tokens         int    `json:"tokens"`
	Apps           int    `json:"apps,omitempty"`
	Socket         string `json:"socket,omitempty"`
	AuditLog       string `json:"audit_log,omitempty"`
	Config         string `json:"config,omitempty"`
	ConfigErr      string `json:"config_error,omitempty"`
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

// ErrTooLarge is returned for a message longer than MaxMessage.
var ErrTooLarge = errors.New("message exceeds 64 KiB")

type requestAlias Request
type responseAlias Response

// The wire forms add "secret" to a message. It is decoded straight into
// bytes (wireSecret) and encoded by appending those bytes to the line, so
// no Go string ever holds it: a string cannot be wiped.
type wireRequest struct {
	*requestAlias
	Secret  wireSecret `json:"secret"`
	Refresh wireSecret `json:"refresh"`
}

type wireResponse struct {
	*responseAlias
	Secret  wireSecret `json:"secret"`
	Refresh wireSecret `json:"refresh"`
}

// EncodeRequest returns req as one wire line, newline included. The line
// holds req's secret: clear it once written.
func EncodeRequest(req *Request) ([]byte, error) {
	return encode((*requestAlias)(req), req.Secret, req.Refresh)
}

// EncodeResponse returns resp as one wire line, newline included. The line
// holds resp's secret: clear it once written.
func EncodeResponse(resp *Response) ([]byte, error) {
	if b, ok := encodeGitResponse(resp); ok {
		return b, nil
	}
	return encode((*responseAlias)(resp), resp.Secret, resp.Refresh)
}

// encode marshals v, which has no secret, and appends "secret" and then
// "refresh" as the last fields, where encoding/json put them when it
// marshalled the wire form; an empty one is left out. The line is
// allocated once at its largest size, so growing it leaves no partial
// copy of a secret behind.
func encode(v any, secret, refresh Secret) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(js) < 2 || js[len(js)-1] != '}' {
		return nil, fmt.Errorf("encode message: not an object")
	}
	fields := [...]struct {
		key string
		s   Secret
	}{{`,"secret":`, secret}, {`,"refresh":`, refresh}}
	n := len(js) + 1 // the newline
	for _, f := range fields {
		if !f.s.IsZero() {
			n += len(f.key) + 2 + 6*f.s.Len() // every byte escaped at worst as \u00XX
		}
	}
	if len(js)+secret.Len()+refresh.Len() > MaxMessage {
		return nil, ErrTooLarge
	}
	b := make([]byte, 0, n)
	b = append(b, js[:len(js)-1]...)
	for _, f := range fields {
		if f.s.IsZero() {
			continue
		}
		if len(b) > 1 {
			b = append(b, f.key...)
		} else {
			b = append(b, f.key[1:]...)
		}
		b = f.s.AppendJSON(b)
	}
	b = append(b, '}', '\n')
	if len(b) > MaxMessage {
		clear(b)
		return nil, ErrTooLarge
	}
	return b, nil
}

// DecodeRequest parses one wire line (with or without its newline). Keys
// match exactly, and a key twice in one object makes the line malformed.
// The request's secret has bytes of its own; the caller clears line.
func DecodeRequest(line []byte) (*Request, error) {
	if req, ok := decodeGitRequest(line); ok {
		return req, nil
	}
	return decodeRequestExact(line)
}

// decodeRequestExact is DecodeRequest through encoding/json and checkKeys.
func decodeRequestExact(line []byte) (*Request, error) {
	req := new(Request)
	w := wireRequest{requestAlias: (*requestAlias)(req)}
	if err := decode(line, &w, requestShape()); err != nil {
		w.Secret.wipe()
		w.Refresh.wipe()
		return nil, err
	}
	req.Secret, req.Refresh = Secret{b: w.Secret}, Secret{b: w.Refresh}
	if req.V != Version {
		req.Secret.Wipe()
		req.Refresh.Wipe()
		return nil, fmt.Errorf("unsupported protocol version %d (this agent speaks %d)", req.V, Version)
	}
	if req.Op == "" {
		req.Secret.Wipe()
		req.Refresh.Wipe()
		return nil, errors.New("missing op")
	}
	return req, nil
}

// DecodeResponse parses one wire line (with or without its newline), as
// exactly as DecodeRequest.
func DecodeResponse(line []byte) (*Response, error) {
	resp := new(Response)
	w := wireResponse{responseAlias: (*responseAlias)(resp)}
	if err := decode(line, &w, responseShape()); err != nil {
		w.Secret.wipe()
		w.Refresh.wipe()
		return nil, err
	}
	resp.Secret, resp.Refresh = Secret{b: w.Secret}, Secret{b: w.Refresh}
	if resp.V != Version {
		resp.Secret.Wipe()
		resp.Refresh.Wipe()
		return nil, fmt.Errorf("unsupported protocol version %d (this client speaks %d)", resp.V, Version)
	}
	return resp, nil
}

func decode(line []byte, v any, sh *shape) error {
	if len(line) > MaxMessage {
		return ErrTooLarge
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	if bytes.IndexByte(line, '\n') >= 0 {
		return errors.New("malformed message: embedded newline")
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	if err := checkKeys(line, sh); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	return nil
}

// wireSecret decodes the "secret" field into bytes of its own.
type wireSecret []byte

// UnmarshalJSON implements json.Unmarshaler. data is a slice of the line
// being decoded; the string's value is unquoted from it directly into a
// buffer of the right size.
func (s *wireSecret) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return errors.New("secret: want a string")
	}
	// A second "secret" key is refused after decoding; until then, wipe
	// what the first one left.
	s.wipe()
	n, ok := unquote(nil, data[1:len(data)-1])
	if !ok {
		return errors.New("secret: invalid string")
	}
	if n == 0 {
		*s = nil
		return nil
	}
	b := make([]byte, n)
	unquote(b, data[1:len(data)-1])
	*s = b
	return nil
}

func (s *wireSecret) wipe() {
	clear(*s)
	*s = nil
}

// unquote decodes the inside of a JSON string literal as encoding/json
// does (escapes, surrogate pairs, invalid UTF-8 and lone surrogates as
// U+FFFD) into dst and returns the decoded length. With a nil dst it only
// counts, so the caller can allocate the exact size once.
func unquote(dst, s []byte) (int, bool) {
	n := 0
	put := func(c byte) {
		if dst != nil {
			dst[n] = c
		}
		n++
	}
	putRune := func(r rune) {
		if dst != nil {
			utf8.EncodeRune(dst[n:], r)
		}
		n += utf8.RuneLen(r)
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return 0, false
			}
			i += 2
			switch s[i-1] {
			case '"', '\\', '/':
				put(s[i-1])
			case 'b':
				put('\b')
			case 'f':
				put('\f')
			case 'n':
				put('\n')
			case 'r':
				put('\r')
			case 't':
				put('\t')
			case 'u':
				r := hex4(s[i:])
				if r < 0 {
					return 0, false
				}
				i += 4
				if utf16.IsSurrogate(r) {
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if r2 := hex4(s[i+2:]); r2 >= 0 {
							if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
								putRune(d)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				putRune(r)
			default:
				return 0, false
			}
		case c == '"' || c < ' ':
			return 0, false
		case c < utf8.RuneSelf:
			put(c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			putRune(r)
			i += size
		}
	}
	return n, true
}

// hex4 reads four hex digits, -1 if they are not.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// ReadLine reads one wire line from r. It fails with ErrTooLarge once the line
// passes MaxMessage, without buffering more than that. The line may hold a
// secret, so ReadLine leaves no other copy: it clears r's buffer where the
// line was, and never grows the line by reallocation without clearing the
// old one. The caller clears the line when done with it.
func ReadLine(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxMessage {
			clear(chunk)
			clear(buf)
			return nil, ErrTooLarge
		}
		if len(buf)+len(chunk) > cap(buf) {
			grown := make([]byte, len(buf), max(2*cap(buf), len(buf)+len(chunk), 512))
			copy(grown, buf)
			clear(buf)
			buf = grown
		}
		buf = append(buf, chunk...)
		// chunk is r's buffer, already consumed.
		clear(chunk)
		switch {
		case err == nil:
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			clear(buf)
			return nil, io.ErrUnexpectedEOF
		default:
			clear(buf)
			return nil, err
		}
	}
}
