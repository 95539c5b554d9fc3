package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	ts := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	local := ts.Local().Format("2006-01-02 15:04:05")
	for _, c := range []struct{ line, want string }{
		{fmt.Sprintf(`{"%s":"%s","%s":"get","%s":"granted","%s":"personal","%s":"github.com","%s":4242,"%s":"/usr/bin/git","%s":"route github.com/*"}`,
			FieldTime, ts.Format(time.RFC3339Nano), FieldOp, FieldDecision, FieldToken, FieldHost, FieldPID, FieldExe, FieldReason),
			local + " get granted token=personal host=github.com pid=4242 exe=/usr/bin/git (route github.com/*)"},
		{fmt.Sprintf(`{"%s":"not a time","%s":"lock","%s":"ok","%s":0}`, FieldTime, FieldOp, FieldDecision, FieldPID),
			"not a time lock ok"},
		{"  not json \n", "not json"},
	} {
		if got := Format([]byte(c.line)); got != c.want {
			t.Errorf("Format(%s) = %q, want %q", c.line, got, c.want)
		}
	}
}

// Tail prints every line to the end, formatted or raw, and stops there
// unless it follows.
func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	lines := fmt.Sprintf("{\"%s\":\"lock\",\"%s\":\"ok\"}\n{\"%s\":\"unlock\",\"%s\":\"ok\"}\n", FieldOp, FieldDecision, FieldOp, FieldDecision)
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []bool{false, true} {
		r, err := OpenReader(path, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		err = Tail(&out, r, raw, false)
		r.Close()
		want := " lock ok\n unlock ok\n"
		if raw {
			want = lines
		}
		if err != nil || out.String() != want {
			t.Errorf("Tail(raw %v) = %v, wrote %q; want %q", raw, err, out.String(), want)
		}
	}
}
