package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/99designs/keyring"

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
}

// App is a GitHub App's private key (PEM) with its metadata.
type App struct {
	Name string
	Key  client.Secret
	Meta AppMeta
}

type appItem struct {
	V    int     `json:"v"`
	Name string  `json:"name"`
	Key  string  `json:"key"`
	Meta AppMeta `json:"meta"`
}

func (s *Store) appKeys() ([]string, error) {
	all, err := s.kr.Keys()
	if err != nil {
		return nil, fmt.Errorf("list %s keyring: %w", s.backend, err)
	}
	var keys []string
	for _, k := range all {
		if strings.HasPrefix(k, appPrefix) && ValidName(strings.TrimPrefix(k, appPrefix)) == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

func (s *Store) getApp(key string) (App, error) {
	it, err := s.kr.Get(key)
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return App{}, ErrNotFound
	}
	if err != nil {
		return App{}, fmt.Errorf("read %s from %s keyring: %w", key, s.backend, err)
	}
	var in appItem
	if err := json.Unmarshal(it.Data, &in); err != nil || in.V != itemV || appPrefix+in.Name != key {
		return App{}, fmt.Errorf("read %s from %s keyring: not a keyfob app item", key, s.backend)
	}
	return App{Name: in.Name, Key: client.NewSecret(in.Key), Meta: in.Meta}, nil
}

// LoadApps reads every GitHub App. An item that does not decode is skipped
// and reported in the returned errors list.
func (s *Store) LoadApps() ([]App, []error, error) {
	keys, err := s.appKeys()
	if err != nil {
		return nil, nil, err
	}
	var apps []App
	var bad []error
	for _, k := range keys {
		a, err := s.getApp(k)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		apps = append(apps, a)
	}
	return apps, bad, nil
}

// PutApp writes a, key and metadata together, in one write.
func (s *Store) PutApp(a App) error {
	if err := ValidName(a.Name); err != nil {
		return err
	}
	data, err := json.Marshal(appItem{V: itemV, Name: a.Name, Key: a.Key.Reveal(), Meta: a.Meta})
	if err != nil {
		return fmt.Errorf("encode app %s: %w", a.Name, err)
	}
	defer clear(data)
	return s.set(keyring.Item{
		Key:         appPrefix + a.Name,
		Label:       appPrefix + a.Name,
		Description: "keyfob GitHub App " + a.Name,
		Data:        data,
	})
}

// RemoveApp deletes a GitHub App's item.
func (s *Store) RemoveApp(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	key := appPrefix + name
	if _, err := s.kr.Get(key); errors.Is(err, keyring.ErrKeyNotFound) {
		return ErrNotFound
	}
	err := s.kr.Remove(key)
	if errors.Is(err, keyring.ErrKeyNotFound) || errors.Is(err, os.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("remove %s from %s keyring: %w", key, s.backend, err)
	}
	return nil
}
