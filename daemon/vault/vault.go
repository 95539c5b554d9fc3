// Package vault holds the unlocked tokens and GitHub Apps in memory. Readers
// take the current Snapshot, an immutable value swapped on every change, and
// never wait for a lock; writers serialise among themselves and do their
// keychain I/O before the new snapshot is published, so a slow keychain
// never stalls a get.
package vault

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/store"
)

// DefaultUsername is what git gets as the username of a token added without
// one, and of every App installation token; GitHub accepts any username
// with a token.
const DefaultUsername = "x-access-token"

// Validation results kept in a token's metadata.
const (
	Valid        = "valid"
	Unverified   = "unverified"
	Invalid      = "invalid"
	MissingPerms = "missing-permissions"
)

var (
	// ErrLocked means the vault holds no keychain: nothing can change.
	ErrLocked = errors.New("locked")
	// ErrChanged means the token or app a change was made against is no
	// longer the one held (another change came first); nothing changed.
	ErrChanged = errors.New("changed meanwhile")
)

// Keychain is what the vault needs of the system keychain. store.Store
// satisfies it.
type Keychain interface {
	// Load reads every token; items that do not decode are skipped and
	// listed.
	Load() ([]store.Token, []error, error)
	// LoadApps reads every GitHub App, as Load does tokens.
	LoadApps() ([]store.App, []error, error)
	// Put writes a token, secret and metadata in one write.
	Put(store.Token) error
	// Remove deletes a token's item; store.ErrNotFound when there is none.
	Remove(name string) error
	// PutApp writes an app, key and metadata in one write.
	PutApp(store.App) error
	// RemoveApp deletes an app's item.
	RemoveApp(name string) error
	// LoadRemembered reads every remembered credential, as Load does
	// tokens.
	LoadRemembered() ([]store.Remembered, []error, error)
	// PutRemembered writes a remembered credential, secrets and
	// metadata in one write, replacing the one of the same key.
	PutRemembered(store.Remembered) error
	// RemoveRemembered deletes the item of the credential with that ID.
	RemoveRemembered(id string) error
	// Close drops the keychain and wipes what it holds to open items
	// (the file backend's passphrase); it is not used again.
	Close()
}

// Snapshot is the vault's state at one moment. It is never changed after
// it is published; read it without a lock.
type Snapshot struct {
	kc Keychain
	// LockErr says why the vault is locked ("" when unlocked, or the
	// last unlock's failure).
	LockErr string
	// Tokens and Apps are by name; tokens and apps share one namespace.
	Tokens map[string]*Entry
	Apps   map[string]*AppEntry
	// Remembered holds the credentials git approved for remembered
	// hosts, by ID. Policy never sees them.
	Remembered map[string]*RememberedEntry
	view       *policy.View
}

// Locked reports whether the snapshot holds no keychain.
func (s *Snapshot) Locked() bool { return s.kc == nil }

// Policy returns what policy needs of the tokens and apps, sorted by name.
// It is built once per snapshot, with an index by host (PolicyView), so a
// get reads only the tokens for its host.
func (s *Snapshot) Policy() []policy.Token { return s.view.All() }

// PolicyView is Policy indexed by host, for a get.
func (s *Snapshot) PolicyView() *policy.View { return s.view }

// NameTaken says why name cannot name a new token or app, "" when it can.
func (s *Snapshot) NameTaken(name string) string {
	switch {
	case s.Tokens[name] != nil:
		return "a token is named " + name
	case s.Apps[name] != nil:
		return "an app is named " + name
	}
	return ""
}

// Unusable says why a token must not be offered, "" when it may.
func Unusable(name string, m store.Meta) string {
	if m.Validation == Invalid && m.ClientID != "" {
		return fmt.Sprintf("token %s is invalid (%s): run keyfob login again", name, m.ValidationMsg)
	}
	if m.Validation == Invalid {
		return fmt.Sprintf("token %s is invalid (%s): run keyfob rotate %s", name, m.ValidationMsg, name)
	}
	return ""
}

func (s *Snapshot) build() *Snapshot {
	toks := make([]policy.Token, 0, len(s.Tokens)+len(s.Apps))
	for _, e := range s.Tokens {
		// A user token that refreshes lives as long as its refresh
		// token: the agent refreshes it before it is handed out.
		exp := e.Meta.Expires
		if e.Refreshes() {
			exp = e.Meta.RefreshExpires
		}
		toks = append(toks, policy.Token{Name: e.Name, Hosts: e.Meta.Hosts, Username: e.Meta.Username,
			Unusable: Unusable(e.Name, e.Meta), Expires: exp})
	}
	for _, e := range s.Apps {
		toks = append(toks, policy.Token{Name: e.Name, Hosts: e.Meta.Hosts, Username: DefaultUsername, App: true})
	}
	slices.SortFunc(toks, func(x, y policy.Token) int { return strings.Compare(x.Name, y.Name) })
	s.view = policy.NewView(toks)
	return s
}

// Vault holds the current snapshot.
type Vault struct {
	// mu serialises writers: each reads the current snapshot, does its
	// keychain I/O, and publishes the next one. Readers never take it.
	mu  sync.Mutex
	cur atomic.Pointer[Snapshot]
}

// New returns a locked vault; lockErr says why.
func New(lockErr string) *Vault {
	v := &Vault{}
	v.cur.Store((&Snapshot{LockErr: lockErr}).build())
	return v
}

// Snapshot returns the current state. It never blocks.
func (v *Vault) Snapshot() *Snapshot { return v.cur.Load() }

// SetLockErr records why the last unlock failed; the tokens stay as they are.
func (v *Vault) SetLockErr(why string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := *v.cur.Load()
	s.LockErr = why
	v.cur.Store(&s)
}

// Loaded is what Unlock read.
type Loaded struct {
	Tokens, Apps int
	// Skipped are items that did not decode.
	Skipped []error
	// AppsErr is why the apps could not be listed; the tokens are held
	// without them.
	AppsErr error
	// Remembered counts the remembered credentials read; RememberedErr
	// is why they could not be listed.
	Remembered    int
	RememberedErr error
}

// Unlock reads every token and app from kc and serves them from then on,
// replacing (and wiping) whatever was held. A failure to list the tokens
// changes nothing.
func (v *Vault) Unlock(kc Keychain) (Loaded, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	toks, bad, err := kc.Load()
	if err != nil {
		return Loaded{}, err
	}
	apps, badApps, aerr := kc.LoadApps()
	rem, badRem, rerr := kc.LoadRemembered()
	next := &Snapshot{kc: kc, Tokens: make(map[string]*Entry, len(toks)), Apps: make(map[string]*AppEntry, len(apps)),
		Remembered: make(map[string]*RememberedEntry, len(rem))}
	for _, r := range rem {
		next.Remembered[r.Meta.ID()] = newRememberedEntry(r)
	}
	prev := v.cur.Load()
	for _, t := range toks {
		e := newEntry(t)
		// The same secret read again keeps what the agent learnt of it
		// (suspect after a rejection, last use): an unlock of an
		// unlocked agent is no way to clear a mark.
		if p := prev.Tokens[t.Name]; p != nil && p.FP == e.FP {
			e.Suspect.Store(p.Suspect.Load())
			e.LastUsed.Store(p.LastUsed.Load())
			e.LastWarn.Store(p.LastWarn.Load())
		}
		next.Tokens[t.Name] = e
	}
	for _, ap := range apps {
		next.Apps[ap.Name] = newAppEntry(ap)
	}
	old := v.cur.Swap(next.build())
	wipeAll(old)
	if old.kc != nil && old.kc != kc {
		old.kc.Close()
	}
	return Loaded{Tokens: len(toks), Apps: len(apps), Skipped: append(append(bad, badApps...), badRem...), AppsErr: aerr,
		Remembered: len(rem), RememberedErr: rerr}, nil
}

// Lock drops every secret: the next snapshot holds nothing, then each
// token's last use is written to its item (saved lists the failures) and
// every held secret and key is overwritten. It returns the snapshot that
// was held, now wiped, so the caller can see what went.
func (v *Vault) Lock(reason string) (old *Snapshot, saved []error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	old = v.cur.Swap((&Snapshot{LockErr: reason}).build())
	if old.kc != nil {
		for _, e := range old.Tokens {
			n := e.LastUsed.Load()
			if n == 0 || !timeAfter(n, e.Meta.LastUsed) {
				continue
			}
			t := e.token()
			t.Meta.LastUsed = unixUTC(n)
			if err := old.kc.Put(t); err != nil {
				saved = append(saved, fmt.Errorf("record last use of %s: %w", t.Name, err))
			}
		}
	}
	wipeAll(old)
	if old.kc != nil {
		old.kc.Close() // wipes the file backend's passphrase
	}
	return old, saved
}

func timeAfter(unixNano int64, t time.Time) bool { return time.Unix(0, unixNano).After(t) }

func unixUTC(unixNano int64) time.Time { return time.Unix(0, unixNano).UTC().Truncate(time.Second) }

func wipeAll(s *Snapshot) {
	for _, e := range s.Tokens {
		e.wipe()
	}
	for _, e := range s.Apps {
		e.key.wipe()
	}
	for _, e := range s.Remembered {
		e.wipe()
	}
}

// next returns a copy of the current snapshot to change, or ErrLocked. Call
// it with mu held.
func (v *Vault) next() (*Snapshot, error) {
	cur := v.cur.Load()
	if cur.kc == nil {
		return nil, ErrLocked
	}
	n := *cur
	n.Tokens, n.Apps, n.Remembered = maps.Clone(cur.Tokens), maps.Clone(cur.Apps), maps.Clone(cur.Remembered)
	return &n, nil
}

// Put stores t (add when old is nil, else rotate old) in the keychain and
// then in memory, and wipes old's secret. The change is made only while
// old is still the token held under t's name (and no app has the name).
// Put owns t's secret and refresh token: on failure they are wiped and
// nothing changed.
func (v *Vault) Put(old *Entry, t store.Token) (*Entry, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, err := v.next()
	if err == nil && (n.Tokens[t.Name] != old || n.Apps[t.Name] != nil) {
		err = ErrChanged
	}
	if err == nil {
		err = n.kc.Put(t)
	}
	if err != nil {
		t.Secret.Wipe()
		t.Refresh.Wipe()
		return nil, err
	}
	e := newEntry(t)
	n.Tokens[t.Name] = e
	v.cur.Store(n.build())
	if old != nil {
		old.wipe()
	}
	return e, nil
}

// Note records meta as old's metadata, in memory whatever the keychain
// says, and in the keychain item as well as it can: the keychain's error
// is returned for the log. It changes nothing when old is no longer held.
func (v *Vault) Note(old *Entry, meta store.Meta) (*Entry, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, err := v.next()
	if err == nil && n.Tokens[old.Name] != old {
		err = ErrChanged
	}
	if err != nil {
		return nil, err
	}
	e := &Entry{Name: old.Name, Meta: meta, FP: old.FP, Live: old.Live}
	kerr := n.kc.Put(e.token())
	n.Tokens[e.Name] = e
	v.cur.Store(n.build())
	return e, kerr
}

// Remove deletes old from the keychain (an item already gone is fine) and
// from memory, and wipes its secret.
func (v *Vault) Remove(old *Entry) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, err := v.next()
	if err == nil && n.Tokens[old.Name] != old {
		err = ErrChanged
	}
	if err == nil {
		if err = n.kc.Remove(old.Name); errors.Is(err, store.ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		return err
	}
	delete(n.Tokens, old.Name)
	v.cur.Store(n.build())
	old.wipe()
	return nil
}

// PutApp stores a new app in the keychain and then in memory, while no
// token or app has its name. PutApp owns ap's key: on failure it is wiped
// and nothing changed.
func (v *Vault) PutApp(ap store.App) (*AppEntry, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, err := v.next()
	if err == nil && n.NameTaken(ap.Name) != "" {
		err = ErrChanged
	}
	if err == nil {
		err = n.kc.PutApp(ap)
	}
	if err != nil {
		ap.Key.Wipe()
		return nil, err
	}
	e := newAppEntry(ap)
	n.Apps[ap.Name] = e
	v.cur.Store(n.build())
	return e, nil
}

// RemoveApp deletes old's item from the keychain and the app from memory,
// and wipes its key.
func (v *Vault) RemoveApp(old *AppEntry) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	n, err := v.next()
	if err == nil && n.Apps[old.Name] != old {
		err = ErrChanged
	}
	if err == nil {
		err = n.kc.RemoveApp(old.Name)
	}
	if err != nil {
		return err
	}
	delete(n.Apps, old.Name)
	v.cur.Store(n.build())
	old.key.wipe()
	return nil
}
