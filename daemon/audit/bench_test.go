package audit

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWrite measures one audit line of a granted get, the line every
// git fetch writes: encoding, the rename check and the write.
func BenchmarkWrite(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "audit.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e := Event{Time: time.Date(2026, 11, 21, 12, 0, 0, 123456789, time.UTC), Op: "get", Decision: Granted,
		Reason: "route github.com/acme/*", UID: 1000, PID: 4242, Exe: "/usr/local/bin/git-credential-keyfob",
		Protocol: "https", Host: "github.com", Path: "acme/app.git", Token: "work", FP: "sha256:0123456789ab"}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Write(e); err != nil {
			b.Fatal(err)
		}
	}
}
