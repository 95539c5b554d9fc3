package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// readAll reads every line of the log at path and its rotated files
// through a Reader, and returns the reasons of the lines, in order.
func readAll(t *testing.T, path string) []string {
	t.Helper()
	r, err := OpenReader(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for {
		line, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var ev struct{ Reason string }
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, ev.Reason)
	}
}

func mustWrite(t *testing.T, l *Log, reason string) {
	t.Helper()
	if err := l.Write(Event{Op: "get", Decision: Granted, Token: "personal", Reason: reason}); err != nil {
		t.Fatalf("Write(%s) = %v", reason, err)
	}
}

func linesOf(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for l := range bytes.Lines(b) {
		var ev struct{ Reason string }
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("%s: line %q: %v", path, l, err)
		}
		out = append(out, ev.Reason)
	}
	return out
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestLogSurvivesOperations renames the log away (logrotate without a
// signal), removes it, truncates it in place (copytruncate) and renames it
// and asks for a reopen (logrotate with SIGHUP), with a hand-out between
// each: every line lands in a file named audit.log or in the file it was
// moved to before that line, none is lost, and none goes to a file that
// no longer has a name.
func TestLogSurvivesOperations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	mustWrite(t, l, "1")
	if err := os.Rename(path, path+".renamed"); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, l, "2")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, l, "3")
	// copytruncate: copy, then cut the original to nothing.
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path+".copied", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, l, "4")
	if err := os.Rename(path, path+".hup"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, l, "5")

	for name, want := range map[string][]string{
		path + ".renamed": {"1"},
		path + ".copied":  {"3"},
		path + ".hup":     {"4"},
		path:              {"5"},
	} {
		if got := linesOf(t, name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s holds %q, want %q", filepath.Base(name), got, want)
		}
		if m := mode(t, name); m != 0o600 {
			t.Errorf("%s mode %04o, want 0600", filepath.Base(name), m)
		}
	}
	// Line 2 went to a new audit.log, which the test removed: it had a
	// name when it was written. The kernel keeps no unnamed file open.
	if fis, _ := os.ReadDir("/proc/self/fd"); len(fis) > 0 {
		for _, fi := range fis {
			target, _ := os.Readlink(filepath.Join("/proc/self/fd", fi.Name()))
			if filepath.Dir(target) == dir && filepath.Base(target) != "audit.log" {
				t.Errorf("the log still holds %s open", target)
			}
		}
	}
}

// TestRotationUnderLoad writes from many goroutines into a log that
// rotates every few kilobytes: every line is in exactly one file, whole,
// each file is 0600 and within the cap plus one line, and a Reader that
// follows the log while it rotates, and one opened afterwards, see every
// line.
func TestRotationUnderLoad(t *testing.T) {
	const writers, each, maxSize, keep = 8, 250, 4096, 200
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetRotation(maxSize, keep)

	follower, err := OpenReader(path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer follower.Close()
	followed := map[string]int{}
	stop := make(chan struct{})
	followDone := make(chan error, 1)
	go func() {
		for {
			line, err := follower.Next()
			if errors.Is(err, io.EOF) {
				select {
				case <-stop:
					if line, err = follower.Next(); errors.Is(err, io.EOF) {
						followDone <- nil
						return
					}
				default:
					time.Sleep(time.Millisecond)
					continue
				}
			}
			if err != nil {
				followDone <- err
				return
			}
			var ev struct{ Reason string }
			if err := json.Unmarshal(line, &ev); err != nil {
				followDone <- fmt.Errorf("line %q: %v", line, err)
				return
			}
			followed[ev.Reason]++
		}
	}()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := l.Write(Event{Op: "get", Decision: Granted, Token: "personal", Reason: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
					t.Errorf("Write = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-followDone; err != nil {
		t.Fatal(err)
	}

	seen := map[string]int{}
	files := 0
	for n := 0; n <= keep; n++ {
		name := path
		if n > 0 {
			name = RotatedName(path, n)
		}
		fi, err := os.Stat(name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		files++
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %04o, want 0600", name, fi.Mode().Perm())
		}
		if fi.Size() > maxSize+1024 {
			t.Errorf("%s is %d bytes, want at most %d and one line", name, fi.Size(), maxSize)
		}
		for _, r := range linesOf(t, name) {
			seen[r]++
		}
	}
	if files < 10 {
		t.Fatalf("%d files after %d lines of cap %d, want many rotations", files, writers*each, maxSize)
	}
	read := map[string]int{}
	for _, r := range readAll(t, path) {
		read[r]++
	}
	for w := range writers {
		for i := range each {
			r := fmt.Sprintf("w%d-%d", w, i)
			if seen[r] != 1 || read[r] != 1 || followed[r] != 1 {
				t.Fatalf("line %s: in %d files, read %d times, followed %d times; want once each", r, seen[r], read[r], followed[r])
			}
		}
	}
}

// TestRotationKeeps drops the oldest files beyond keep.
func TestRotationKeeps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetRotation(1, 3) // every line its own file
	for i := range 10 {
		mustWrite(t, l, fmt.Sprint(i))
	}
	if got := readAll(t, path); fmt.Sprint(got) != "[6 7 8 9]" {
		t.Errorf("read %q after 10 lines kept 3, want [6 7 8 9]", got)
	}
	if _, err := os.Stat(RotatedName(path, 4)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: %v, want it removed", RotatedName(path, 4), err)
	}
}
