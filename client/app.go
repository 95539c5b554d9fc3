package client

import "time"

// AppSpec is what keyfob app add says about a GitHub App. Exactly one of
// InstallationID and Owner is set.
type AppSpec struct {
	AppID          int64    `json:"app_id"`
	InstallationID int64    `json:"installation_id,omitempty"`
	Owner          string   `json:"owner,omitempty"`
	Hosts          []string `json:"hosts,omitempty"`
	// NoVerify skips minting a token to check the app.
	NoVerify bool `json:"no_verify,omitempty"`
	// ClientID is the app's OAuth client id, kept for keyfob login --app.
	ClientID string `json:"client_id,omitempty"`
}

// AppInfo describes one GitHub App without its key, with the installation
// tokens the agent holds for it.
type AppInfo struct {
	Name           string    `json:"name"`
	AppID          int64     `json:"app_id"`
	InstallationID int64     `json:"installation_id,omitempty"`
	Owner          string    `json:"owner,omitempty"`
	Hosts          []string  `json:"hosts"`
	KeyFP          string    `json:"key_fp,omitempty"`
	Created        time.Time `json:"created,omitzero"`
	Validation     string    `json:"validation,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	Cached         []Minted  `json:"cached,omitempty"`
}

// Minted is one installation token the agent holds, masked.
type Minted struct {
	Masked       string            `json:"masked"`
	Fingerprint  string            `json:"fp"`
	Installation int64             `json:"installation"`
	Scope        string            `json:"scope"`
	Repositories []string          `json:"repositories,omitempty"`
	Permissions  map[string]string `json:"permissions,omitempty"`
	Minted       time.Time         `json:"minted"`
	Expires      time.Time         `json:"expires"`
}
