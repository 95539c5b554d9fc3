package client

import "time"

// Grant modes.
const (
	// GrantSocket is a grant served on a socket of its own, which answers
	// git's get for the grant's repositories and nothing else.
	GrantSocket = "socket"
	// GrantFile is a grant whose token is written to a file.
	GrantFile = "file"
)

// GrantSpec is what keyfob grant asks for. docs/protocol.md describes each
// field.
type GrantSpec struct {
	// Label names the grant; "" lets the agent choose one.
	Label string `json:"label,omitempty"`
	// URLs are the repositories granted: host/owner/repo or
	// host/owner/* (an owner's repositories).
	URLs []string `json:"urls"`
	// TTL is the grant's lifetime in seconds; 0 means the agent's default.
	TTL int64 `json:"ttl_s,omitempty"`
	// MaxUses caps the tokens a socket grant hands out; 0 means no cap.
	MaxUses int `json:"max_uses,omitempty"`
	// UIDs are the peer uids a socket grant serves; empty means the
	// agent's own.
	UIDs []int `json:"uids,omitempty"`
	// Mode is GrantSocket or GrantFile.
	Mode string `json:"mode"`
	// Path is the socket or file; "" means a directory of its own under
	// the agent's runtime directory.
	Path string `json:"path,omitempty"`
}

// GrantInfo describes one grant, without any secret.
type GrantInfo struct {
	Label   string    `json:"label"`
	URLs    []string  `json:"urls"`
	Mode    string    `json:"mode"`
	Path    string    `json:"path"`
	UIDs    []int     `json:"uids,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Uses counts the tokens handed out (socket) or written (file).
	Uses    int `json:"uses"`
	MaxUses int `json:"max_uses,omitempty"`
	// Refreshes is when a file grant next rewrites its token (a token
	// that expires before the grant), zero when it does not.
	Refreshes time.Time `json:"refreshes,omitzero"`
}
