package store

import (
	"errors"
	"testing"

	"github.com/keyfob/keyfob/client"
)

// Apps live beside tokens in their own namespace: loading tokens never
// returns an app, and the reverse.
func TestAppsOwnNamespace(t *testing.T) {
	s, err := Open(fileOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	key := "-----BEGIN RSA PRIVATE KEY-----\ncanaryKEY\n-----END RSA PRIVATE KEY-----\n"
	if err := s.PutApp(App{Name: "ci", Key: client.NewSecret(key), Meta: AppMeta{AppID: 101, InstallationID: 42, Hosts: []string{"github.com"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(Token{Name: "personal", Secret: client.NewSecret("ghp_x"), Meta: Meta{Hosts: []string{"github.com"}}}); err != nil {
		t.Fatal(err)
	}
	toks, bad, err := s.Load()
	if err != nil || len(bad) != 0 || len(toks) != 1 || toks[0].Name != "personal" {
		t.Fatalf("Load = %v, %v, %v; want the token only", toks, bad, err)
	}
	apps, bad, err := s.LoadApps()
	if err != nil || len(bad) != 0 || len(apps) != 1 {
		t.Fatalf("LoadApps = %v, %v, %v; want one app", apps, bad, err)
	}
	if a := apps[0]; a.Name != "ci" || a.Key.Reveal() != key || a.Meta.AppID != 101 || a.Meta.InstallationID != 42 {
		t.Errorf("LoadApps()[0] = %+v, want ci with its key and ids", a)
	}
	if err := s.Remove("ci"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(app name) = %v, want ErrNotFound: tokens and apps do not mix", err)
	}
	if err := s.RemoveApp("ci"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveApp("ci"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveApp twice = %v, want ErrNotFound", err)
	}
	if apps, _, _ := s.LoadApps(); len(apps) != 0 {
		t.Errorf("LoadApps after RemoveApp = %v, want none", apps)
	}
}
