package audit

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// zapLine is an audit line as zap's JSON encoder writes it, under the
// config the log used before it had an encoder of its own.
func zapLine(t testing.TB, e Event) string {
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{
		TimeKey:    FieldTime,
		EncodeTime: zapcore.RFC3339NanoTimeEncoder,
		LineEnding: "\n",
	})
	buf, err := enc.EncodeEntry(zapcore.Entry{Time: e.Time}, []zapcore.Field{{Type: zapcore.InlineMarshalerType, Interface: e}})
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	return buf.String()
}

// pieces are what random strings are made of: plain text, every escape
// zap makes, invalid UTF-8, multi-byte runes that the caps may cut.
var pieces = []string{"a", "github.com", "/", "\"", "\\", "\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\u2028",
	"é", "日本", "\xff", "\xe6\x97", "<&>", "…(truncated)", "\U0001F600"}

func randomString(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0:
		return ""
	case 1: // near or over a cap
		return strings.Repeat(pieces[r.IntN(len(pieces))], 200+r.IntN(900))
	}
	var b strings.Builder
	for range r.IntN(20) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randomEvent(r *rand.Rand) Event {
	zones := []*time.Location{time.UTC, time.FixedZone("x", 3600+1800), time.FixedZone("y", -7*3600)}
	e := Event{
		Time: time.Unix(r.Int64N(4e9), r.Int64N(1e9)*int64(r.IntN(2))).In(zones[r.IntN(len(zones))]),
		Op:   randomString(r), Decision: randomString(r), Reason: randomString(r),
		UID: r.IntN(70000) - 1, PID: r.IntN(1 << 22), Exe: randomString(r),
		Protocol: randomString(r), Host: randomString(r), Path: randomString(r), Username: randomString(r),
		Token: randomString(r), FP: randomString(r), Grant: randomString(r), Scope: randomString(r), Mint: randomString(r),
	}
	if r.IntN(2) == 0 {
		e.Installation = r.Int64N(1<<40) - 5
	}
	if r.IntN(2) == 0 {
		e.Expires = time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	}
	return e
}

// TestEncoderMatchesZap checks the log's encoder writes exactly zap's
// bytes for random events: field names, order, caps, escaping.
func TestEncoderMatchesZap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		e := randomEvent(r)
		if got, want := string(e.appendLine(nil)), zapLine(t, e); got != want {
			t.Fatalf("event %d:\n got %q\nwant %q", i, got, want)
		}
	}
}

// FuzzEncoderMatchesZap is TestEncoderMatchesZap on fuzzed strings.
func FuzzEncoderMatchesZap(f *testing.F) {
	f.Add("get", "https", "github.com", "acme/app.git", "/usr/bin/git", int64(0))
	f.Add("g\x00\"\\", "\xff\xfe", strings.Repeat("é", 200), strings.Repeat("日", 400), "\n\r\t", int64(-1))
	f.Fuzz(func(t *testing.T, op, proto, host, path, exe string, inst int64) {
		e := Event{Time: time.Unix(1e9, 5), Op: op, Decision: Granted, Reason: path, UID: 1, PID: 2, Exe: exe,
			Protocol: proto, Host: host, Path: path, Username: op, Token: host, Grant: proto, Scope: exe, Installation: inst}
		if got, want := string(e.appendLine(nil)), zapLine(t, e); got != want {
			t.Fatalf("\n got %q\nwant %q", got, want)
		}
	})
}
