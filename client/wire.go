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
	// PasswordFP is the fingerprint of the password git holds (store and
	// erase). The password itself never goes back to the agent.
	PasswordFP string `json:"password_fp,omitempty"`
	// State is keyfob's state[] value git sent back with store or erase
	// (git 2.46 and later): the token keyfob served, by name and
	// fingerprint.
	State string `json:"state,omitempty"`
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
	// Secret is the token for add and rotate, the passphrase for unlock,
	// the app's private key (PEM) for app-add.
	Secret Secret `json:"-"`
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
}

// Status describes the agent.
type Status struct {
	Version   int    `json:"version"`
	PID       int    `json:"pid"`
	Backend   string `json:"backend"`
	Locked    bool   `json:"locked"`
	NeedsPass bool   `json:"needs_passphrase,omitempty"`
	LockError string `json:"lock_error,omitempty"`
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
	// Secret is the token handed out by get and token.
	Secret Secret `json:"-"`
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

type wireRequest struct {
	*requestAlias
	Secret string `json:"secret,omitempty"`
}

type wireResponse struct {
	*responseAlias
	Secret string `json:"secret,omitempty"`
}

// EncodeRequest returns req as one wire line, newline included.
func EncodeRequest(req *Request) ([]byte, error) {
	return encode(wireRequest{(*requestAlias)(req), req.Secret.Reveal()})
}

// EncodeResponse returns resp as one wire line, newline included.
func EncodeResponse(resp *Response) ([]byte, error) {
	return encode(wireResponse{(*responseAlias)(resp), resp.Secret.Reveal()})
}

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	if len(b) > MaxMessage {
		return nil, ErrTooLarge
	}
	return b, nil
}

// DecodeRequest parses one wire line (with or without its newline).
func DecodeRequest(line []byte) (*Request, error) {
	req := new(Request)
	w := wireRequest{requestAlias: (*requestAlias)(req)}
	if err := decode(line, &w); err != nil {
		return nil, err
	}
	if req.V != Version {
		return nil, fmt.Errorf("unsupported protocol version %d (this agent speaks %d)", req.V, Version)
	}
	if req.Op == "" {
		return nil, errors.New("missing op")
	}
	req.Secret = NewSecret(w.Secret)
	return req, nil
}

// DecodeResponse parses one wire line (with or without its newline).
func DecodeResponse(line []byte) (*Response, error) {
	resp := new(Response)
	w := wireResponse{responseAlias: (*responseAlias)(resp)}
	if err := decode(line, &w); err != nil {
		return nil, err
	}
	if resp.V != Version {
		return nil, fmt.Errorf("unsupported protocol version %d (this client speaks %d)", resp.V, Version)
	}
	resp.Secret = NewSecret(w.Secret)
	return resp, nil
}

func decode(line []byte, v any) error {
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
	return nil
}

// ReadLine reads one wire line from r. It fails with ErrTooLarge once the line
// passes MaxMessage, without buffering more than that.
func ReadLine(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxMessage {
			return nil, ErrTooLarge
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}
