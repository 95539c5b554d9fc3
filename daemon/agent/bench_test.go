package agent

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/store"
)

var errReadOnly = errors.New("read-only keychain")

// loaded is a keychain that holds toks at unlock and takes no writes: the
// benchmark measures reads.
type loaded []store.Token

func (l loaded) Load() ([]store.Token, []error, error) { return l, nil, nil }
func (loaded) LoadApps() ([]store.App, []error, error) { return nil, nil, nil }
func (loaded) Close()                                  {}
func (loaded) Put(store.Token) error                   { return errReadOnly }
func (loaded) Remove(string) error                     { return errReadOnly }
func (loaded) PutApp(store.App) error                  { return errReadOnly }
func (loaded) RemoveApp(string) error                  { return errReadOnly }
func (loaded) LoadRemembered() ([]store.Remembered, []error, error) {
	return nil, nil, nil
}
func (loaded) PutRemembered(store.Remembered) error { return errReadOnly }
func (loaded) RemoveRemembered(string) error        { return errReadOnly }

// BenchmarkGet1000 measures one git get with 1,000 tokens held: the cost
// policy adds per request as the inventory grows.
func BenchmarkGet1000(b *testing.B) {
	f := newFixture(b)
	f.a.Wait()
	var toks loaded
	for i := range 1000 {
		name := fmt.Sprintf("tok%04d", i)
		toks = append(toks, store.Token{Name: name, Secret: client.NewSecret("ghp_benchmark000000000000"),
			Meta: store.Meta{Hosts: []string{fmt.Sprintf("h%d.example.com", i)}, Username: DefaultUsername}})
	}
	if _, err := f.a.vault.Unlock(toks); err != nil {
		b.Fatal(err)
	}
	req := get("h500.example.com", "acme/app.git")
	b.ResetTimer()
	for b.Loop() {
		if r := f.a.Handle(b.Context(), me, req); r.Code != "" {
			b.Fatal(r.Error)
		}
	}
}

// BenchmarkGetAudited measures the agent's share of one git get with one
// token: dispatch, policy, the audit line written to its file, the answer.
func BenchmarkGetAudited(b *testing.B) {
	f := newFixture(b)
	f.a.Wait()
	toks := loaded{{Name: "work", Secret: client.NewSecret("ghp_benchmark000000000000"),
		Meta: store.Meta{Hosts: []string{"github.com"}, Username: DefaultUsername}}}
	if _, err := f.a.vault.Unlock(toks); err != nil {
		b.Fatal(err)
	}
	req := get("github.com", "")
	b.ReportAllocs()
	for b.Loop() {
		r := f.a.Handle(b.Context(), me, req)
		if r.Code != "" {
			b.Fatal(r.Error)
		}
		r.Secret.Wipe()
	}
}
