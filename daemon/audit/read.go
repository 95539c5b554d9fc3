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

// Filter selects audit lines by the same fields the writer names.
type Filter struct {
	// After keeps lines whose time is after it; zero keeps every time.
	After time.Time
	// Token keeps lines about this token; "" keeps every line.
	Token string
}

// Match reports whether line, one JSON object, passes the filter. A line
// that is not an audit line (not JSON, a time that is not one) never
// passes.
func (f Filter) Match(line []byte) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(line, &fields) != nil {
		return false
	}
	var when time.Time
	if raw, ok := fields[FieldTime]; ok && json.Unmarshal(raw, &when) != nil {
		return false
	}
	var token string
	if raw, ok := fields[FieldToken]; ok && json.Unmarshal(raw, &token) != nil {
		return false
	}
	return (f.After.IsZero() || when.After(f.After)) && (f.Token == "" || token == f.Token)
}

// Reader reads an audit log's lines, whole, while the agent may still be
// appending to it: a line not yet ended is left for a later Next.
type Reader struct {
	f      *os.File
	r      *bufio.Reader
	filter Filter
}

// OpenReader opens the audit log at path, to read the lines that pass
// filter from its start.
func OpenReader(path string, filter Filter) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return &Reader{f: f, r: bufio.NewReader(f), filter: filter}, nil
}

// Next returns the next whole line that passes the filter, with its
// newline. At the end of what has been written it returns io.EOF; calling
// Next again later returns the lines written since.
func (r *Reader) Next() ([]byte, error) {
	for {
		line, err := r.r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if r.filter.Match(line) {
				return line, nil
			}
			continue
		}
		if len(line) > 0 {
			// A partial line: the agent is still writing it.
			if _, serr := r.f.Seek(-int64(len(line)), io.SeekCurrent); serr != nil {
				return nil, serr
			}
			r.r.Reset(r.f)
		}
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
	}
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
