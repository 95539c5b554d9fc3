package pump

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// Limits on what is read from git. git-credential(1) caps a line at
// MaxGitLine; git sends one wwwauth[] line per challenge of the server and
// a few lines besides, so MaxGitInput only bounds memory, far above
// anything git sends.
const (
	// MaxGitLine is the longest line, its newline included (a CR before
	// the newline, which git drops, is not counted).
	MaxGitLine = 65535
	// MaxGitInput is the most that is read, all lines together.
	MaxGitInput = 1 << 20
)

// ReadGit reads git's "key=value" lines from r up to a blank line or end of
// input, as git's credential_read does, and returns the lines the agent
// reads, each ended by a newline: a CR before a newline is dropped, and
// attributes keyfob has no use for (wwwauth[], authtype, ephemeral, …) are
// left out. A line without "=", a line holding NUL or CR, a line over
// MaxGitLine or input over MaxGitInput is an error, whether or not the
// agent would read that line. The lines may hold git's password: the
// caller clears them.
func ReadGit(r io.Reader) ([]byte, error) {
	b := make([]byte, 0, 4096)
	w, off, total := 0, 0, 0 // kept bytes, read position, bytes of lines read
	eof := false
	fail := func(err error) ([]byte, error) {
		clear(b[:cap(b)])
		return nil, err
	}
	for {
		nl := bytes.IndexByte(b[off:], '\n')
		if nl < 0 && !eof {
			if len(b)-off > MaxGitLine+1 {
				return fail(errors.New("credential line exceeds " + strconv.Itoa(MaxGitLine) + " bytes"))
			}
			if len(b) == cap(b) {
				b = Grow(b, cap(b))
			}
			n, err := r.Read(b[len(b):cap(b)])
			b = b[:len(b)+n]
			switch {
			case errors.Is(err, io.EOF):
				eof = true
			case err != nil:
				return fail(err)
			}
			continue
		}
		var line []byte
		if nl >= 0 {
			line = b[off : off+nl]
			off += nl + 1
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
		} else {
			// The last line, without a newline: a CR at its end stays.
			line = b[off:]
			off = len(b)
		}
		if len(line) >= MaxGitLine {
			return fail(errors.New("credential line exceeds " + strconv.Itoa(MaxGitLine) + " bytes"))
		}
		if total += len(line); total > MaxGitInput {
			return fail(errors.New("credential input exceeds " + strconv.Itoa(MaxGitInput) + " bytes"))
		}
		if len(line) == 0 {
			break
		}
		key, ok := CheckGitLine(line)
		if !ok {
			return fail(errors.New(lineError(line)))
		}
		if agentReads(key) {
			w += copy(b[w:], line)
			if w == len(b) {
				// The last line, at end of input with no newline:
				// room for the one it gets.
				b = Grow(b, 1)
				b = b[:w+1]
			}
			b[w] = '\n'
			w++
		}
		if eof && off == len(b) {
			break
		}
	}
	clear(b[w:cap(b)])
	return b[:w:w], nil
}

// CheckGitLine splits one line of git's (no newline) at its "=", and
// reports whether it is one git could send: a key and a value, neither
// holding NUL, and no CR left in the value. git never writes NUL, and
// reading it would cut the value short; a CR inside a value is one git
// refuses to send since its fixes of January 2025
// (credential.protectProtocol), and keyfob could not write it back.
func CheckGitLine(line []byte) (key []byte, ok bool) {
	i := bytes.IndexByte(line, '=')
	if i < 0 || bytes.IndexByte(line[:i], 0) >= 0 || bytes.ContainsAny(line[i+1:], "\x00\r") {
		return nil, false
	}
	return line[:i], true
}

// lineError says why CheckGitLine refused line, never showing its value.
func lineError(line []byte) string {
	i := bytes.IndexByte(line, '=')
	if i < 0 {
		return "invalid credential line: want key=value"
	}
	return "credential attribute " + clipKey(line[:i]) + " contains NUL or CR"
}

// GitLineError is lineError for a line that CheckGitLine refused.
func GitLineError(line []byte) error { return errors.New(lineError(line)) }

// clipKey names a key in an error without letting a long one flood stderr.
func clipKey(k []byte) string {
	if len(k) > 32 {
		return strconv.Quote(string(k[:32])) + "…"
	}
	return strconv.Quote(string(k))
}

// agentReads reports whether the agent reads attribute key.
func agentReads(key []byte) bool {
	switch string(key) {
	case "protocol", "host", "path", "username", "password", "password_expiry_utc",
		"oauth_refresh_token", "url", "capability[]", "state[]":
		return true
	}
	return false
}

// Grow returns b with room for n more bytes, at least doubling it when it
// must move, and clears the array it leaves: bytes that may hold a secret
// are never left behind by a reallocation.
func Grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+max(n, cap(b), 256))
	copy(nb, b)
	clear(b[:cap(b)])
	return nb
}
