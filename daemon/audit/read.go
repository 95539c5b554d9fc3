package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Filter selects audit lines by the same fields the writer names. A zero
// field selects every line.
type Filter struct {
	// After keeps lines whose time is after it.
	After time.Time
	// Before keeps lines whose time is before it.
	Before time.Time
	// Op, Decision, Token, Grant and Host keep lines whose field of that
	// name is exactly this.
	Op, Decision, Token, Grant, Host string
}

// line is the part of an audit line that Filter looks at.
type line struct {
	Time     *time.Time `json:"time"`
	Op       string     `json:"op"`
	Decision string     `json:"decision"`
	Token    string     `json:"token"`
	Grant    string     `json:"grant"`
	Host     string     `json:"host"`
}

// Match reports whether line, one JSON object, passes the filter. A line
// that is not an audit line (not JSON, a time that is not one, a field of
// the wrong type) never passes.
func (f Filter) Match(b []byte) bool {
	var l line
	if json.Unmarshal(b, &l) != nil {
		return false
	}
	if (!f.After.IsZero() || !f.Before.IsZero()) && l.Time == nil {
		return false
	}
	eq := func(want, got string) bool { return want == "" || want == got }
	return (f.After.IsZero() || l.Time.After(f.After)) &&
		(f.Before.IsZero() || l.Time.Before(f.Before)) &&
		eq(f.Op, l.Op) && eq(f.Decision, l.Decision) && eq(f.Token, l.Token) &&
		eq(f.Grant, l.Grant) && eq(f.Host, l.Host)
}

// maxRotated bounds how far a Reader looks for rotated files.
const maxRotated = 1000

// Reader reads an audit log's lines, whole, oldest first: the rotated
// files (path.N down to path.1), then the log itself, while the agent may
// still be appending to it. A line not yet ended is left for a later Next.
// It follows the log across a rotation, or a rename and reopen by
// logrotate, and starts over in a file that was truncated in place
// (copytruncate).
type Reader struct {
	path   string
	f      *os.File
	r      *bufio.Reader
	off    int64
	filter Filter
}

// OpenReader opens the audit log at path and its rotated files, to read
// the lines that pass filter from the oldest.
func OpenReader(path string, filter Filter) (*Reader, error) {
	r := &Reader{path: path, filter: filter}
	oldest := 0
	for n := 1; n <= maxRotated; n++ {
		if _, err := os.Stat(RotatedName(path, n)); err != nil {
			break
		}
		oldest = n
	}
	for n := oldest; n >= 0; n-- {
		err := r.open(r.name(n))
		if err == nil {
			return r, nil
		}
		if n == 0 || !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open audit log: %w", err)
		}
	}
	panic("unreachable")
}

func (r *Reader) name(n int) string {
	if n == 0 {
		return r.path
	}
	return RotatedName(r.path, n)
}

func (r *Reader) open(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	if r.f != nil {
		r.f.Close()
	}
	r.f, r.off = f, 0
	if r.r == nil {
		r.r = bufio.NewReader(f)
	} else {
		r.r.Reset(f)
	}
	return nil
}

// Next returns the next whole line that passes the filter, with its
// newline. At the end of what has been written it returns io.EOF; calling
// Next again later returns the lines written since, in the newer files
// too.
func (r *Reader) Next() ([]byte, error) {
	drained := false
	for {
		line, err := r.r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			r.off += int64(len(line))
			drained = false
			if r.filter.Match(line) {
				return line, nil
			}
			continue
		}
		if len(line) > 0 {
			// A partial line: the agent is still writing it.
			if _, serr := r.f.Seek(r.off, io.SeekStart); serr != nil {
				return nil, serr
			}
			r.r.Reset(r.f)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		off := r.off
		next, want, live, err := r.successor()
		switch {
		case err != nil:
			return nil, err
		case live && r.off < off:
			continue // truncated in place: read what is there now
		case live:
			return nil, io.EOF
		case !drained:
			// The file was renamed away: read it to its end once more,
			// for lines written just before the rename.
			drained = true
			continue
		case next == "":
			return nil, io.EOF
		}
		ok, err := r.openAs(next, want)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, io.EOF
		case err != nil:
			return nil, err
		case !ok:
			// Another rotation moved the files between the look and the
			// open: look again from the file still being read.
			continue
		}
		drained = false
	}
}

// successor says what follows the file being read: live when it is still
// the log (after a copytruncate it reads that from the start), else the
// name of the next newer file ("" when there is none yet).
//
// want is the file found under next when it was looked up, nil when any
// file there will do (the log itself, after the current file left the
// rotated set): openAs checks it, since a rotation can move the files
// between the look and the open.
func (r *Reader) successor() (next string, want os.FileInfo, live bool, err error) {
	cur, err := r.f.Stat()
	if err != nil {
		return "", nil, false, err
	}
	if fi, err := os.Stat(r.path); err == nil && os.SameFile(cur, fi) {
		if cur.Size() < r.off {
			// Truncated in place: what is there now is new.
			if _, err := r.f.Seek(0, io.SeekStart); err != nil {
				return "", nil, false, err
			}
			r.off = 0
			r.r.Reset(r.f)
		}
		return "", nil, true, nil
	}
	// The file one place newer than the one looked at, and its name. A
	// rotation in progress renames .N to .N+1 from the oldest down, so one
	// name at a time may be missing: a gap is stepped over, not taken for
	// the end of the set.
	var newer os.FileInfo
	newerName := r.path
	if fi, err := os.Stat(r.path); err == nil {
		newer = fi
	}
	gaps := 0
	for n := 1; n <= maxRotated; n++ {
		name := RotatedName(r.path, n)
		fi, err := os.Stat(name)
		if err != nil {
			if gaps++; gaps > 1 {
				break
			}
			continue
		}
		if os.SameFile(cur, fi) {
			if newer == nil {
				return "", nil, false, nil
			}
			return newerName, newer, false, nil
		}
		newer, newerName = fi, name
	}
	// Removed, or renamed out of the set: go on with the log.
	return r.path, nil, false, nil
}

// openAs opens name and makes it the file being read, if it is want (any
// file when want is nil); ok is false, and nothing changes, when another
// file has taken its place.
func (r *Reader) openAs(name string, want os.FileInfo) (ok bool, err error) {
	if want == nil {
		return true, r.open(name)
	}
	f, err := os.Open(name)
	if err != nil {
		return false, err
	}
	fi, err := f.Stat()
	if err != nil || !os.SameFile(fi, want) {
		f.Close()
		return false, err
	}
	if r.f != nil {
		r.f.Close()
	}
	r.f, r.off = f, 0
	r.r.Reset(f)
	return true, nil
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
