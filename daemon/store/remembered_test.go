package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
)

// A remembered credential is one item of its own kind: both secrets and
// the metadata round-trip, storing the same key again replaces it, tokens
// and apps never see it, and neither the item's name nor its file holds
// the host, the username or a secret in the clear.
func TestRememberedRoundTrip(t *testing.T) {
	opts := fileOpts(t)
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	key := RememberedKey{Protocol: "https", Host: "gitlab.example.com", Path: "group/app.git", Username: "alice"}
	exp := time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)
	put := func(pass, refresh string) {
		t.Helper()
		r := Remembered{Meta: RememberedMeta{RememberedKey: key, Expires: exp, Stored: time.Unix(1700000000, 0).UTC()},
			Password: client.NewSecret(pass), Refresh: client.NewSecret(refresh)}
		if err := s.PutRemembered(r); err != nil {
			t.Fatal(err)
		}
	}
	put("canaryPASS1", "canaryREFRESH1")
	put("canaryPASS2", "canaryREFRESH2")
	if err := s.Put(Token{Name: "personal", Secret: client.NewSecret("ghp_x"), Meta: Meta{Hosts: []string{"github.com"}}}); err != nil {
		t.Fatal(err)
	}
	got, bad, err := s.LoadRemembered()
	if err != nil || len(bad) != 0 || len(got) != 1 {
		t.Fatalf("LoadRemembered = %v, %v, %v; want one credential", got, bad, err)
	}
	r := got[0]
	if r.Meta.RememberedKey != key || !r.Meta.Expires.Equal(exp) || r.Password.Reveal() != "canaryPASS2" || r.Refresh.Reveal() != "canaryREFRESH2" {
		t.Errorf("LoadRemembered()[0] = %+v (%q, %q), want the second store", r.Meta, r.Password.Reveal(), r.Refresh.Reveal())
	}
	if toks, _, _ := s.Load(); len(toks) != 1 {
		t.Errorf("Load = %v, want the token only", toks)
	}
	files, _ := filepath.Glob(filepath.Join(opts.Dir, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, leak := range []string{"canary", "gitlab", "alice"} {
			if strings.Contains(f, leak) || strings.Contains(string(b), leak) {
				t.Errorf("%s holds %q in the clear", f, leak)
			}
		}
	}
	if err := s.RemoveRemembered(key.ID()); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRemembered(key.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveRemembered twice = %v, want ErrNotFound", err)
	}
	if got, _, _ := s.LoadRemembered(); len(got) != 0 {
		t.Errorf("LoadRemembered after remove = %v, want none", got)
	}
}

// The key's fields are kept apart: moving a character from one to the
// next is another credential.
func TestRememberedKeyID(t *testing.T) {
	a := RememberedKey{Protocol: "https", Host: "h", Path: "ab", Username: "c"}
	b := RememberedKey{Protocol: "https", Host: "h", Path: "a", Username: "bc"}
	if a.ID() == b.ID() {
		t.Errorf("ID(%+v) = ID(%+v)", a, b)
	}
	if err := ValidName(a.ID()); err != nil {
		t.Errorf("ValidName(ID) = %v", err)
	}
}
