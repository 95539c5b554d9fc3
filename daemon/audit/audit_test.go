package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestWriteBoundsHostileFields writes what a hostile peer can put in an
// event, a 60 KB host and path and control characters, and reads the line
// back: one line, valid JSON, every field within its cap, cut at a UTF-8
// boundary with the marker, control characters escaped and kept.
func TestWriteBoundsHostileFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctl := "bad\x00request\x1b[31m red\r\nforged line\x7f\u2028"
	e := Event{
		Op:       "get" + strings.Repeat("\n", 10_000),
		Decision: BadRequest,
		Reason:   ctl + strings.Repeat("é", 30_000),
		UID:      1000,
		PID:      42,
		Exe:      "/tmp/evil\n" + strings.Repeat("x", 5000),
		Protocol: "https",
		Host:     strings.Repeat("h", 60_000),
		Path:     strings.Repeat("日本", 10_000),
		Token:    strings.Repeat("t", 1000),
		Grant:    strings.Repeat("g\t", 1000),
		Scope:    strings.Repeat("s", 2000),
	}
	if err := l.Write(e); err != nil {
		t.Fatalf("Write: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Escaping can make a byte six (\u0000), so this is the most a line
	// can be: 7 short fields, 4 long ones, and the rest of the line.
	const bound = 6*(7*MaxField+4*MaxLongField) + 512
	if len(b) > bound {
		t.Errorf("line is %d bytes, want at most %d", len(b), bound)
	}
	if bytes.Count(b, []byte("\n")) != 1 || b[len(b)-1] != '\n' {
		t.Fatalf("audit log is not one line:\n%.300q", b)
	}
	for i, c := range b[:len(b)-1] {
		if c < 0x20 {
			t.Fatalf("byte %d of the line is control character %#x, want it escaped", i, c)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("line is not JSON: %v\n%.300q", err, b)
	}
	caps := map[string]int{
		FieldOp: MaxField, FieldReason: MaxLongField, FieldExe: MaxLongField, FieldHost: MaxField,
		FieldPath: MaxLongField, FieldToken: MaxField, FieldGrant: MaxField, FieldScope: MaxLongField,
	}
	for k, n := range caps {
		v, _ := got[k].(string)
		if len(v) > n || !strings.HasSuffix(v, Truncated) || !utf8.ValidString(v) || strings.ContainsRune(v, utf8.RuneError) {
			t.Errorf("%s = %d bytes ending %q, want at most %d of valid UTF-8 ending %q", k, len(v), v[max(0, len(v)-20):], n, Truncated)
		}
	}
	if r, _ := got[FieldReason].(string); !strings.HasPrefix(r, ctl) {
		t.Errorf("reason = %.80q, want it to start with %q, control characters kept", r, ctl)
	}
	if got[FieldProtocol] != "https" || got[FieldDecision] != BadRequest {
		t.Errorf("protocol, decision = %v, %v; want short fields whole", got[FieldProtocol], got[FieldDecision])
	}
}

func TestClip(t *testing.T) {
	n := len(Truncated) + 4
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"github.com", "github.com"},
		{strings.Repeat("a", n), strings.Repeat("a", n)},
		{strings.Repeat("a", n+1), "aaaa" + Truncated},
		{"aé" + strings.Repeat("a", n), "aéa" + Truncated},   // four bytes fit
		{"aaaé" + strings.Repeat("a", n), "aaa" + Truncated}, // é would straddle the cut
		{"aa日" + strings.Repeat("a", n), "aa" + Truncated},
		{"\xff\xff\xff\xff\xff\xff" + strings.Repeat("a", n), "\xff\xff\xff\xff" + Truncated},
		{strings.Repeat("\x80", 6) + strings.Repeat("a", n), Truncated}, // no rune start: the backing off ends
	}
	for _, tt := range tests {
		if got := clip(tt.in, n); got != tt.want || len(got) > n {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, n, got, tt.want)
		}
	}
}
