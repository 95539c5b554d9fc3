package vault

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/store"
)

// memKeychain is a keychain in memory. fail, when set, fails every write;
// block, when set, holds each Put until it is closed, after saying on
// entered that the Put has begun.
type memKeychain struct {
	closed  int // Close calls
	mu      sync.Mutex
	toks    map[string]store.Token
	apps    map[string]store.App
	rem     map[string]store.Remembered
	fail    error
	block   chan struct{}
	entered chan struct{}
}

var errKeychain = errors.New("keychain on fire")

func newMem(toks ...store.Token) *memKeychain {
	k := &memKeychain{toks: map[string]store.Token{}, apps: map[string]store.App{}}
	for _, t := range toks {
		k.toks[t.Name] = store.Token{Name: t.Name, Secret: t.Secret.Clone(), Meta: t.Meta}
	}
	return k
}

func (k *memKeychain) Load() ([]store.Token, []error, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []store.Token
	for _, t := range k.toks {
		out = append(out, store.Token{Name: t.Name, Secret: t.Secret.Clone(), Refresh: t.Refresh.Clone(), Meta: t.Meta})
	}
	return out, nil, nil
}

func (k *memKeychain) LoadApps() ([]store.App, []error, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []store.App
	for _, a := range k.apps {
		out = append(out, store.App{Name: a.Name, Key: a.Key.Clone(), Meta: a.Meta})
	}
	return out, nil, nil
}

func (k *memKeychain) Put(t store.Token) error {
	if k.block != nil {
		k.entered <- struct{}{}
		<-k.block
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	k.toks[t.Name] = store.Token{Name: t.Name, Secret: t.Secret.Clone(), Refresh: t.Refresh.Clone(), Meta: t.Meta}
	return nil
}

func (k *memKeychain) Remove(name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	if _, ok := k.toks[name]; !ok {
		return store.ErrNotFound
	}
	delete(k.toks, name)
	return nil
}

func (k *memKeychain) PutApp(a store.App) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	k.apps[a.Name] = store.App{Name: a.Name, Key: a.Key.Clone(), Meta: a.Meta}
	return nil
}

func (k *memKeychain) RemoveApp(name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	delete(k.apps, name)
	return nil
}

func (k *memKeychain) LoadRemembered() ([]store.Remembered, []error, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []store.Remembered
	for _, r := range k.rem {
		out = append(out, store.Remembered{Meta: r.Meta, Password: r.Password.Clone(), Refresh: r.Refresh.Clone()})
	}
	return out, nil, nil
}

func (k *memKeychain) PutRemembered(r store.Remembered) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	if k.rem == nil {
		k.rem = map[string]store.Remembered{}
	}
	k.rem[r.Meta.ID()] = store.Remembered{Meta: r.Meta, Password: r.Password.Clone(), Refresh: r.Refresh.Clone()}
	return nil
}

func (k *memKeychain) RemoveRemembered(id string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	if _, ok := k.rem[id]; !ok {
		return store.ErrNotFound
	}
	delete(k.rem, id)
	return nil
}

func (k *memKeychain) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed++
}

func (k *memKeychain) secret(name string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.toks[name].Secret.Reveal()
}

const (
	oldSecret = "ghp_canaryVAULTOLD0000000000000000000"
	newSecret = "ghp_canaryVAULTNEW0000000000000000000"
)

func tok(name, secret string) store.Token {
	return store.Token{Name: name, Secret: client.NewSecret(secret), Meta: store.Meta{Hosts: []string{"github.com"}, Username: DefaultUsername}}
}

func unlocked(t *testing.T, kc *memKeychain) *Vault {
	t.Helper()
	v := New("not yet")
	if _, err := v.Unlock(kc); err != nil {
		t.Fatal(err)
	}
	return v
}

func secretOf(t *testing.T, s *Snapshot, name string) string {
	t.Helper()
	e := s.Tokens[name]
	if e == nil {
		t.Fatalf("no token %s in the snapshot", name)
	}
	sec, ok := e.Secret()
	if !ok {
		t.Fatalf("token %s: secret wiped", name)
	}
	defer sec.Wipe()
	return sec.Reveal()
}

func TestUnlockAndPolicy(t *testing.T) {
	kc := newMem(tok("b", oldSecret), tok("a", newSecret))
	kc.apps["c"] = store.App{Name: "c", Key: client.NewSecret("pem"), Meta: store.AppMeta{AppID: 1, Hosts: []string{"github.com"}}}
	v := New("waiting")
	if s := v.Snapshot(); !s.Locked() || s.LockErr != "waiting" || len(s.Policy()) != 0 {
		t.Fatalf("new vault = %+v, want locked and empty", s)
	}
	got, err := v.Unlock(kc)
	if err != nil || got.Tokens != 2 || got.Apps != 1 {
		t.Fatalf("Unlock() = %+v, %v, want 2 tokens and 1 app", got, err)
	}
	s := v.Snapshot()
	var names []string
	for _, p := range s.Policy() {
		names = append(names, p.Name)
	}
	if s.Locked() || len(names) != 3 || names[0] != "a" || names[1] != "b" || names[2] != "c" || !s.Policy()[2].App {
		t.Fatalf("policy view = %v, want a b c(app)", s.Policy())
	}
	if secretOf(t, s, "b") != oldSecret {
		t.Fatal("token b has the wrong secret")
	}
}

// A keychain write that fails changes nothing in memory.
func TestFailedWritesLeaveTheSnapshot(t *testing.T) {
	kc := newMem(tok("gh", oldSecret))
	v := unlocked(t, kc)
	before := v.Snapshot()
	kc.fail = errKeychain
	staged := client.NewSecret(newSecret)
	if _, err := v.Put(before.Tokens["gh"], store.Token{Name: "gh", Secret: staged, Meta: before.Tokens["gh"].Meta}); !errors.Is(err, errKeychain) {
		t.Fatalf("Put on a failing keychain = %v, want %v", err, errKeychain)
	}
	if !staged.IsZero() && staged.Reveal() == newSecret {
		t.Error("a failed Put left the new secret in memory")
	}
	if _, err := v.Put(nil, tok("new", newSecret)); !errors.Is(err, errKeychain) {
		t.Fatalf("add on a failing keychain = %v", err)
	}
	if err := v.Remove(before.Tokens["gh"]); !errors.Is(err, errKeychain) {
		t.Fatalf("Remove on a failing keychain = %v", err)
	}
	if _, err := v.PutApp(store.App{Name: "app", Key: client.NewSecret("pem")}); !errors.Is(err, errKeychain) {
		t.Fatalf("PutApp on a failing keychain = %v", err)
	}
	if v.Snapshot() != before {
		t.Fatal("a failed write published a new snapshot")
	}
	if secretOf(t, v.Snapshot(), "gh") != oldSecret || kc.secret("gh") != oldSecret {
		t.Fatal("a failed write changed the token")
	}
	// Note keeps what it learned in memory even when the item cannot be
	// written, and says so.
	m := before.Tokens["gh"].Meta
	m.RejectedAt = "github.com/acme/app"
	if _, err := v.Note(before.Tokens["gh"], m); !errors.Is(err, errKeychain) {
		t.Fatalf("Note on a failing keychain = %v, want its error", err)
	}
	if e := v.Snapshot().Tokens["gh"]; e.Meta.RejectedAt != m.RejectedAt || e.Live != before.Tokens["gh"].Live {
		t.Fatalf("Note: entry %+v, want the new metadata on the same live state", e)
	}
}

// A get (a snapshot read and a secret copy) completes while a keychain
// write is held up.
func TestReadsDoNotWaitForTheKeychain(t *testing.T) {
	kc := newMem(tok("gh", oldSecret))
	v := unlocked(t, kc)
	kc.block, kc.entered = make(chan struct{}), make(chan struct{})
	old := v.Snapshot().Tokens["gh"]
	done := make(chan error)
	go func() {
		_, err := v.Put(old, store.Token{Name: "gh", Secret: client.NewSecret(newSecret), Meta: old.Meta})
		done <- err
	}()
	<-kc.entered // the write is in the keychain now, and stays there
	if got := secretOf(t, v.Snapshot(), "gh"); got != oldSecret {
		t.Fatalf("get during a slow write = %q, want the old secret", got)
	}
	close(kc.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := secretOf(t, v.Snapshot(), "gh"); got != newSecret {
		t.Fatalf("get after the write = %q, want the new secret", got)
	}
	if _, ok := old.Secret(); ok {
		t.Error("the rotated-out secret can still be read")
	}
}

func TestStaleChangesRefused(t *testing.T) {
	kc := newMem(tok("gh", oldSecret))
	v := unlocked(t, kc)
	stale := v.Snapshot().Tokens["gh"]
	if _, err := v.Put(stale, tok("gh", newSecret)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Put(stale, tok("gh", "ghp_third")); !errors.Is(err, ErrChanged) {
		t.Fatalf("rotate of a token rotated meanwhile = %v, want ErrChanged", err)
	}
	if _, err := v.Put(nil, tok("gh", "ghp_third")); !errors.Is(err, ErrChanged) {
		t.Fatalf("add of a name taken meanwhile = %v, want ErrChanged", err)
	}
	if err := v.Remove(stale); !errors.Is(err, ErrChanged) {
		t.Fatalf("remove of a token rotated meanwhile = %v, want ErrChanged", err)
	}
	if _, err := v.PutApp(store.App{Name: "gh", Key: client.NewSecret("pem")}); !errors.Is(err, ErrChanged) {
		t.Fatalf("app named like a token = %v, want ErrChanged", err)
	}
	if kc.secret("gh") != newSecret {
		t.Fatal("a stale change reached the keychain")
	}
	// An item already gone from the keychain is removed from memory too.
	delete(kc.toks, "gh")
	if err := v.Remove(v.Snapshot().Tokens["gh"]); err != nil || v.Snapshot().Tokens["gh"] != nil {
		t.Fatalf("Remove of an item gone from the keychain = %v", err)
	}
}

func TestLockWipesAndSavesLastUse(t *testing.T) {
	kc := newMem(tok("gh", oldSecret))
	kc.apps["app"] = store.App{Name: "app", Key: client.NewSecret("pem-key"), Meta: store.AppMeta{AppID: 1}}
	v := unlocked(t, kc)
	s := v.Snapshot()
	handed, _ := s.Tokens["gh"].Secret()
	used := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	s.Tokens["gh"].LastUsed.Store(used.UnixNano())
	old, saved := v.Lock("locked by a test")
	if len(saved) != 0 || old != s {
		t.Fatalf("Lock() = %v, %v", old, saved)
	}
	if n := v.Snapshot(); !n.Locked() || n.LockErr != "locked by a test" || len(n.Tokens) != 0 {
		t.Fatalf("after Lock: %+v", n)
	}
	if _, ok := s.Tokens["gh"].Secret(); ok {
		t.Error("lock left the token readable")
	}
	if _, ok := s.Apps["app"].Key(); ok {
		t.Error("lock left the app key readable")
	}
	if handed.Reveal() != oldSecret {
		t.Error("lock reached a copy already handed out")
	}
	if got := kc.toks["gh"].Meta.LastUsed; !got.Equal(used) {
		t.Errorf("last use saved at lock = %v, want %v", got, used)
	}
	if _, err := v.Put(nil, tok("new", newSecret)); !errors.Is(err, ErrLocked) {
		t.Fatalf("Put while locked = %v, want ErrLocked", err)
	}
}

// Readers copying secrets while writers rotate and lock see a whole secret
// or none, never a half-wiped one (and, under -race, no data race).
func TestReadersAndWipes(t *testing.T) {
	kc := newMem(tok("gh", oldSecret))
	v := unlocked(t, kc)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				e := v.Snapshot().Tokens["gh"]
				if e == nil {
					continue
				}
				if s, ok := e.Secret(); ok {
					if got := s.Reveal(); got != oldSecret && got != newSecret {
						t.Errorf("read %q, want a whole secret", got)
					}
					s.Wipe()
				}
			}
		}()
	}
	for i := range 200 {
		cur := v.Snapshot().Tokens["gh"]
		next := []string{oldSecret, newSecret}[i%2]
		if _, err := v.Put(cur, store.Token{Name: "gh", Secret: client.NewSecret(next), Meta: cur.Meta}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			v.Lock("test")
			if _, err := v.Unlock(kc); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
}
