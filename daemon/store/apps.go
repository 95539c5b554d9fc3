package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyfob/keyfob/client"
)

// GitHub Apps are items of their own kind, "keyfob.app.NAME", never in the
// token namespace: what they hold is a private key that mints tokens, not
// a token to hand out.
const appPrefix = "keyfob.app."

// AppMeta is what keyfob records about a GitHub App, inside the same item
// as its private key.
type AppMeta struct {
	AppID int64 `json:"app_id"`
	// InstallationID is 0 when the installation is found from Owner.
	InstallationID int64     `json:"installation_id,omitempty"`
	Owner          string    `json:"owner,omitempty"`
	Hosts          []string  `json:"hosts"`
	Created        time.Time `json:"created"`
	// Validation is "valid" (a token was minted at add) or "unverified".
	Validation    string    `json:"validation,omitempty"`
	ValidationMsg string    `json:"validation_msg,omitempty"`
	Validated     time.Time `json:"validated,omitzero"`
	// ClientID is the app's OAuth client id, for keyfob login --app.
	ClientID string `json:"client_id,omitempty"`
}

// App is a GitHub App's private key (PEM) with its metadata.
type App struct {
	Name string
	Key  client.Secret
	Meta AppMeta
}

// appItem is the JSON inside an app's item; the key is handled as item's
// secret is.
type appItem struct {
	V    int             `json:"v"`
	Name string          `json:"name"`
	Key  json.RawMessage `json:"key,omitempty"`
	Meta AppMeta         `json:"meta"`
}

func (s *Store) getApp(key string) (App, error) {
	var in appItem
	pem, err := s.read(key, &in, &in.Key)
	if err != nil {
		return App{}, err
	}
	if in.V != itemV || appPrefix+in.Name != key {
		pem.Wipe()
		return App{}, fmt.Errorf("read %s from %s keyring: not a keyfob app item", key, s.backend)
	}
	return App{Name: in.Name, Key: pem, Meta: in.Meta}, nil
}

// LoadApps reads every GitHub App. An item that does not decode is skipped
// and reported in the returned errors list.
func (s *Store) LoadApps() ([]App, []error, error) { return loadAll(s, appPrefix, s.getApp) }

// PutApp writes a, key and metadata together, in one write.
func (s *Store) PutApp(a App) error {
	return s.write(appPrefix, a.Name, "keyfob GitHub App "+a.Name, appItem{V: itemV, Name: a.Name, Meta: a.Meta}, "key", a.Key)
}

// RemoveApp deletes a GitHub App's item.
func (s *Store) RemoveApp(name string) error { return s.remove(appPrefix, name) }
