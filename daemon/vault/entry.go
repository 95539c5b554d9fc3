package vault

import (
	"runtime"
	"sync/atomic"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/store"
)

// held is a secret that a writer may wipe while readers copy it. A reader
// pins it for the length of a copy; a wipe marks it gone, waits for the
// pins in flight (each a memory copy), then overwrites it. Readers never
// wait.
type held struct {
	s       client.Secret
	readers atomic.Int32
	wiped   atomic.Bool
}

func (h *held) clone() (client.Secret, bool) {
	h.readers.Add(1)
	defer h.readers.Add(-1)
	if h.wiped.Load() {
		return client.Secret{}, false
	}
	return h.s.Clone(), true
}

func (h *held) wipe() {
	h.wiped.Store(true)
	for h.readers.Load() > 0 {
		runtime.Gosched()
	}
	h.s.Wipe()
}

// Live is what changes about a held token without a new snapshot: it is
// shared by every snapshot that holds the token with the same secret.
type Live struct {
	// LastUsed and LastWarn are Unix nanoseconds.
	LastUsed atomic.Int64
	LastWarn atomic.Int64
	// Suspect is set while a rejection reported by git is re-checked:
	// the token answers nothing meanwhile.
	Suspect atomic.Bool
	// Revalidating is set while a re-validation runs: at most one per
	// token is in flight.
	Revalidating atomic.Bool

	secret held
	// refresh is a user token's refresh token (keyfob login); it is
	// wiped with secret.
	refresh held
}

func (l *Live) wipe() {
	l.secret.wipe()
	l.refresh.wipe()
}

// Entry is one token as a snapshot holds it. Name, Meta and FP never change;
// a change to the metadata is a new Entry sharing the same Live.
type Entry struct {
	Name string
	Meta store.Meta
	// FP is the secret's fingerprint.
	FP string
	*Live
}

func newEntry(t store.Token) *Entry {
	e := &Entry{Name: t.Name, Meta: t.Meta, FP: t.Secret.Fingerprint(), Live: &Live{}}
	e.secret.s = t.Secret
	e.refresh.s = t.Refresh
	return e
}

// Refresh returns a copy of a user token's refresh token, for the caller
// to wipe; false when the token has none, or it has been wiped since the
// snapshot was read.
func (e *Entry) Refresh() (client.Secret, bool) {
	r, ok := e.refresh.clone()
	if r.IsZero() {
		return client.Secret{}, false
	}
	return r, ok
}

// Refreshes reports whether e is a user token the agent refreshes.
func (e *Entry) Refreshes() bool { return e.Meta.ClientID != "" && !e.refresh.s.IsZero() }

// Secret returns a copy of the token's secret, for the caller to wipe. It
// reports false when the secret has been wiped since the snapshot was read
// (the token was rotated or removed, or the vault locked).
func (e *Entry) Secret() (client.Secret, bool) { return e.secret.clone() }

// token is e with its held secret (not a copy), for keychain writes. Call
// it with the writer mutex held: only writers wipe.
func (e *Entry) token() store.Token {
	return store.Token{Name: e.Name, Secret: e.secret.s, Refresh: e.refresh.s, Meta: e.Meta}
}

// AppEntry is one GitHub App as a snapshot holds it.
type AppEntry struct {
	Name string
	Meta store.AppMeta
	// KeyFP is the private key's fingerprint.
	KeyFP string
	key   *held
}

func newAppEntry(ap store.App) *AppEntry {
	return &AppEntry{Name: ap.Name, Meta: ap.Meta, KeyFP: ap.Key.Fingerprint(), key: &held{s: ap.Key}}
}

// Key returns a copy of the app's private key, for the caller to wipe, or
// false when it has been wiped since the snapshot was read.
func (e *AppEntry) Key() (client.Secret, bool) { return e.key.clone() }
