package vault

import (
	"errors"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/store"
)

// RememberedEntry is one credential git approved for a remembered host, as
// a snapshot holds it. Nothing in it changes; storing again is a new entry.
type RememberedEntry struct {
	// ID names its keychain item (store.RememberedKey.ID).
	ID string
	// Name is what keyfob list shows and keyfob remove takes
	// (RememberedName).
	Name string
	Meta store.RememberedMeta
	// FP is the password's fingerprint, "" for an empty password.
	FP string
	// HasRefresh is set when an OAuth refresh token came with it.
	HasRefresh bool
	password   *held
	refresh    *held
}

// RememberedPrefix starts the name of every remembered credential. The
// agent refuses it at the start of a token's name, so names never clash.
const RememberedPrefix = "remembered:"

// RememberedName is the name of the credential with key k:
// "remembered:USER@HOST[/PATH]" for https, and
// "remembered:PROTOCOL://USER@HOST[/PATH]" for any other protocol.
func RememberedName(k store.RememberedKey) string {
	n := RememberedPrefix
	if k.Protocol != "https" {
		n += k.Protocol + "://"
	}
	n += k.Username + "@" + k.Host
	if k.Path != "" {
		n += "/" + k.Path
	}
	return n
}

func newRememberedEntry(r store.Remembered) *RememberedEntry {
	e := &RememberedEntry{ID: r.Meta.ID(), Name: RememberedName(r.Meta.RememberedKey), Meta: r.Meta,
		HasRefresh: !r.Refresh.IsZero(), password: &held{s: r.Password}, refresh: &held{s: r.Refresh}}
	if !r.Password.IsZero() {
		e.FP = r.Password.Fingerprint()
	}
	return e
}

// Secrets returns copies of the password and the refresh token, for the
// caller to wipe, or false when they have been wiped since the snapshot
// was read (stored again, erased, or the vault locked).
func (e *RememberedEntry) Secrets() (password, refresh client.Secret, ok bool) {
	if password, ok = e.password.clone(); !ok {
		return client.Secret{}, client.Secret{}, false
	}
	if refresh, ok = e.refresh.clone(); !ok {
		password.Wipe()
		return client.Secret{}, client.Secret{}, false
	}
	return password, refresh, true
}

func (e *RememberedEntry) wipe() {
	e.password.wipe()
	e.refresh.wipe()
}

// RememberedByName returns the remembered credential called name, or nil.
func (s *Snapshot) RememberedByName(name string) *RememberedEntry {
	for _, e := range s.Remembered {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// PutRemembered stores r in the keychain and then in memory, replacing old
// (nil when no credential of r's key is held), and wipes old's secrets.
// The change is made only while old is still the one held. It owns r's
// secrets: on failure they are wiped and nothing changed.
func (v *Vault) PutRemembered(old *RememberedEntry, r store.Remembered) (*RememberedEntry, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, err := v.next()
	id := r.Meta.ID()
	if err == nil && n.Remembered[id] != old {
		err = ErrChanged
	}
	if err == nil {
		err = n.kc.PutRemembered(r)
	}
	if err != nil {
		r.Password.Wipe()
		r.Refresh.Wipe()
		return nil, err
	}
	e := newRememberedEntry(r)
	if n.Remembered == nil {
		n.Remembered = map[string]*RememberedEntry{}
	}
	n.Remembered[id] = e
	v.cur.Store(n.build())
	if old != nil {
		old.wipe()
	}
	return e, nil
}

// RemoveRemembered deletes each of olds from the keychain (an item already
// gone is fine) and from memory, and wipes their secrets. It stops at the
// first keychain failure: those before it are gone, the rest kept. One no
// longer held is ErrChanged, and nothing is removed.
func (v *Vault) RemoveRemembered(olds ...*RememberedEntry) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, err := v.next()
	if err != nil {
		return err
	}
	for _, old := range olds {
		if n.Remembered[old.ID] != old {
			return ErrChanged
		}
	}
	var kerr error
	done := 0
	for _, old := range olds {
		if err := n.kc.RemoveRemembered(old.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			kerr = err
			break
		}
		delete(n.Remembered, old.ID)
		done++
	}
	if done > 0 {
		v.cur.Store(n.build())
		for _, old := range olds[:done] {
			old.wipe()
		}
	}
	return kerr
}
