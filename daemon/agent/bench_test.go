package agent

import (
	"fmt"
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/store"
)

// BenchmarkGet1000 measures one git get with 1,000 tokens held: the cost
// policy adds per request as the inventory grows.
func BenchmarkGet1000(b *testing.B) {
	f := newFixture(b)
	f.a.Wait()
	f.a.mu.Lock()
	for i := range 1000 {
		name := fmt.Sprintf("tok%04d", i)
		f.a.tokens[name] = &entry{tok: store.Token{Name: name, Secret: client.NewSecret("ghp_benchmark000000000000"),
			Meta: store.Meta{Hosts: []string{fmt.Sprintf("h%d.example.com", i)}, Username: DefaultUsername}}}
	}
	f.a.tokensChanged()
	f.a.mu.Unlock()
	req := get("h500.example.com", "acme/app.git")
	b.ResetTimer()
	for b.Loop() {
		if r := f.a.Handle(b.Context(), me, req); r.Code != "" {
			b.Fatal(r.Error)
		}
	}
}
