package audit

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFilterMatch(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	line := `{"time":"2026-05-01T12:00:00Z","op":"get","decision":"granted","token":"acme"}`
	for _, tc := range []struct {
		name   string
		filter Filter
		line   string
		want   bool
	}{
		{"no filter", Filter{}, line, true},
		{"newer than After", Filter{After: at.Add(-time.Second)}, line, true},
		{"as old as After", Filter{After: at}, line, false},
		{"its token", Filter{Token: "acme"}, line, true},
		{"another token", Filter{Token: "personal"}, line, false},
		{"both", Filter{After: at.Add(-time.Hour), Token: "acme"}, line, true},
		{"no token field", Filter{Token: "acme"}, `{"time":"2026-05-01T12:00:00Z","op":"lock"}`, false},
		{"no token field, no token asked", Filter{}, `{"time":"2026-05-01T12:00:00Z","op":"lock"}`, true},
		{"no time, After set", Filter{After: at.Add(-time.Hour)}, `{"op":"get"}`, false},
		{"not JSON", Filter{}, "keyfob: started\n", false},
		{"a time that is not one", Filter{}, `{"time":"yesterday"}`, false},
		{"a token that is not a string", Filter{}, `{"time":"2026-05-01T12:00:00Z","token":7}`, false},
	} {
		if got := tc.filter.Match([]byte(tc.line)); got != tc.want {
			t.Errorf("%s: Filter%+v.Match(%s) = %v, want %v", tc.name, tc.filter, tc.line, got, tc.want)
		}
	}
}

// The reader reads what the writer wrote, filtered on the writer's own
// fields, and leaves a line that is still being written for later.
func TestReaderFollowsTheWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	now := time.Now()
	for _, e := range []Event{
		{Time: now.Add(-2 * time.Hour), Op: "get", Decision: Granted, Token: "acme"},
		{Time: now.Add(-time.Minute), Op: "get", Decision: Granted, Token: "personal"},
		{Time: now.Add(-time.Minute), Op: "get", Decision: NoMatch},
		{Time: now.Add(-time.Second), Op: "store", Decision: Stored, Token: "acme"},
	} {
		if err := l.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	r, err := OpenReader(path, Filter{After: now.Add(-time.Hour), Token: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	line, err := r.Next()
	if err != nil || !strings.Contains(string(line), `"op":"store"`) || !strings.HasSuffix(string(line), "\n") {
		t.Fatalf("Next = %q, %v; want the store line of acme, with its newline", line, err)
	}
	if line, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next at the end = %q, %v; want io.EOF", line, err)
	}

	// Half a line, as a writer caught in the middle leaves it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	half := `{"time":"` + now.UTC().Format(time.RFC3339Nano) + `","op":"erase",`
	if _, err := f.WriteString(half); err != nil {
		t.Fatal(err)
	}
	if line, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next on a partial line = %q, %v; want io.EOF", line, err)
	}
	if _, err := f.WriteString(`"decision":"erased","token":"acme"}` + "\n"); err != nil {
		t.Fatal(err)
	}
	line, err = r.Next()
	if err != nil || string(line) != half+`"decision":"erased","token":"acme"}`+"\n" {
		t.Fatalf("Next once the line is whole = %q, %v; want all of it", line, err)
	}
	if err := l.Write(Event{Op: "get", Decision: Granted, Token: "acme"}); err != nil {
		t.Fatal(err)
	}
	if line, err := r.Next(); err != nil || !strings.Contains(string(line), `"decision":"granted"`) {
		t.Fatalf("Next after another Write = %q, %v; want the new line", line, err)
	}
}

func TestOpenReaderMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if _, err := OpenReader(path, Filter{}); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "open audit log") {
		t.Errorf("OpenReader(%s) = %v, want a not-exist error about the audit log", path, err)
	}
}
