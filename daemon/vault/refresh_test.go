package vault

import (
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/store"
)

// TestRefreshTokenTravelsWithTheToken checks that a user token's refresh
// token is written with every change of the item (a metadata note too),
// served from memory, and wiped at lock.
func TestRefreshTokenTravelsWithTheToken(t *testing.T) {
	kc := newMem()
	v := unlocked(t, kc)
	tk := store.Token{Name: "mona@github.com", Secret: client.NewSecret("ghu_canaryACCESS0000000000000000000000"),
		Refresh: client.NewSecret("ghr_canaryREFRESH000000000000000000000"), Meta: store.Meta{Hosts: []string{"github.com"}, ClientID: "Iv23liTEST"}}
	e, err := v.Put(nil, tk)
	if err != nil {
		t.Fatalf("Put = %v", err)
	}
	if !e.Refreshes() {
		t.Fatal("Refreshes() = false for a user token with a refresh token")
	}
	m := e.Meta
	m.Validation = Valid
	if _, err := v.Note(e, m); err != nil {
		t.Fatalf("Note = %v", err)
	}
	kc.mu.Lock()
	got := kc.toks[tk.Name].Refresh.Reveal()
	kc.mu.Unlock()
	if got != "ghr_canaryREFRESH000000000000000000000" {
		t.Fatalf("keychain refresh token after Note = %q, want it kept", got)
	}
	cur := v.Snapshot().Tokens[tk.Name]
	r, ok := cur.Refresh()
	if !ok || r.Reveal() != "ghr_canaryREFRESH000000000000000000000" {
		t.Fatalf("Refresh() = %q, %v", r.Reveal(), ok)
	}
	r.Wipe()
	v.Lock("test")
	if r, ok := cur.Refresh(); ok || !r.IsZero() {
		t.Fatalf("Refresh() after lock = %v, want wiped", ok)
	}
}
