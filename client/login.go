package client

// keyfob login runs GitHub's device flow through the agent: login-start
// asks GitHub for a device code and answers the user code to show (and the
// device code, as the answer's secret); login-poll, sent with that device
// code as its secret, asks GitHub once whether the user approved it. On
// approval the agent stores the user token and its refresh token itself:
// neither ever reaches the client.
const (
	OpLoginStart = "login-start"
	OpLoginPoll  = "login-poll"
)

// LoginSpec is what login-start and login-poll ask for.
type LoginSpec struct {
	// ClientID is the GitHub App's (or OAuth App's) client id; App
	// names a stored app whose client id to use instead.
	ClientID string `json:"client_id,omitempty"`
	App      string `json:"app,omitempty"`
	// Host is the GitHub host (github.com, an Enterprise host, or
	// SUB.ghe.com); "" means github.com.
	Host  string `json:"host,omitempty"`
	Scope string `json:"scope,omitempty"`
}

// LoginInfo is what login-start and a pending login-poll answer.
type LoginInfo struct {
	UserCode        string `json:"user_code,omitempty"`
	VerificationURI string `json:"verification_uri,omitempty"`
	// Interval is the number of seconds to wait before the next poll
	// (raised by a slow_down); ExpiresIn how long the code lives.
	Interval  int64 `json:"interval_s,omitempty"`
	ExpiresIn int64 `json:"expires_in_s,omitempty"`
	// Pending is set while the user has not approved the code yet.
	Pending bool `json:"pending,omitempty"`
}
