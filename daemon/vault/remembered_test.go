package vault

import (
	"errors"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/store"
)

func remembered(user, pass, refresh string) store.Remembered {
	return store.Remembered{
		Meta:     store.RememberedMeta{RememberedKey: store.RememberedKey{Protocol: "https", Host: "gitlab.example.com", Username: user}, Stored: time.Unix(1, 0)},
		Password: client.NewSecret(pass), Refresh: client.NewSecret(refresh),
	}
}

// A remembered credential is written through, read again at unlock,
// replaced whole by a second store of its key, and wiped by lock and by
// removal.
func TestRemembered(t *testing.T) {
	kc := newMem()
	v := unlocked(t, kc)
	first, err := v.PutRemembered(nil, remembered("alice", "canaryPASS1", "canaryR1"))
	if err != nil {
		t.Fatal(err)
	}
	if first.Name != "remembered:alice@gitlab.example.com" {
		t.Errorf("Name = %q", first.Name)
	}
	if _, err := v.PutRemembered(nil, remembered("alice", "x", "")); !errors.Is(err, ErrChanged) {
		t.Errorf("PutRemembered(stale old) = %v, want ErrChanged", err)
	}
	second, err := v.PutRemembered(first, remembered("alice", "canaryPASS2", "canaryR2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := first.Secrets(); ok {
		t.Error("the replaced credential's secrets were not wiped")
	}
	v2 := unlocked(t, kc)
	s := v2.Snapshot()
	e := s.RememberedByName(second.Name)
	if len(s.Remembered) != 1 || e == nil {
		t.Fatalf("after unlock: %v, want the one credential", s.Remembered)
	}
	p, r, ok := e.Secrets()
	if !ok || p.Reveal() != "canaryPASS2" || r.Reveal() != "canaryR2" {
		t.Errorf("Secrets() = %q, %q, %v; want the second store", p.Reveal(), r.Reveal(), ok)
	}
	old, _ := v2.Lock("test")
	if _, _, ok := old.Remembered[e.ID].Secrets(); ok || len(v2.Snapshot().Remembered) != 0 {
		t.Error("lock kept a remembered credential")
	}
	if err := v.RemoveRemembered(second); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := second.Secrets(); ok || len(v.Snapshot().Remembered) != 0 || len(kc.rem) != 0 {
		t.Error("remove kept the credential")
	}
}
