package pump

import (
	"bytes"
	"errors"
	"strconv"
)

// The helper's exchange with the agent. The helper sends
//
//	git OP\n             OP is get, store or erase
//	key=value\n …        git's lines, as ReadGit returns them
//	\n                   a blank line ends the request
//
// and the agent answers, in git's own terms, with lines that each say
// where they go:
//
//	o key=value\n …      a line for git, on stdout
//	e keyfob: …\n …      a line for the user, on stderr
//	x N\n                the end: the helper exits with status N
//
// An answer without its end line is cut short, and nothing of it reaches
// git. A connection may carry one exchange after another.

// RequestPrefix starts the first line of a request in git's terms. A wire
// request in JSON starts with "{", so the agent tells them apart by the
// first byte.
const RequestPrefix = "git "

// The marks that start the lines of an answer.
const (
	markOut  = 'o'
	markErr  = 'e'
	markExit = 'x'
)

// ParseHeader returns the op of a request's first line (without its
// newline), and whether line is one.
func ParseHeader(line []byte) (op string, ok bool) {
	rest, found := bytes.CutPrefix(line, []byte(RequestPrefix))
	if !found {
		return "", false
	}
	switch string(rest) {
	case "get":
		return "get", true
	case "store":
		return "store", true
	case "erase":
		return "erase", true
	}
	return "", false
}

// AppendRequest appends a request for op with git's lines to b.
func AppendRequest(b []byte, op string, lines []byte) []byte {
	b = append(b, RequestPrefix...)
	b = append(b, op...)
	b = append(b, '\n')
	b = append(b, lines...)
	return append(b, '\n')
}

// AppendOut appends git's lines (each ended by a newline) to an answer.
func AppendOut(b, lines []byte) []byte {
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n')
		if i < 0 {
			i = len(lines) - 1
			lines = append(lines[:len(lines):len(lines)], '\n')
		}
		b = append(b, markOut, ' ')
		b = append(b, lines[:i+1]...)
		lines = lines[i+1:]
	}
	return b
}

// AppendErr appends one line for the user's stderr to an answer; a line
// break inside msg becomes a space.
func AppendErr(b []byte, msg string) []byte {
	b = append(b, markErr, ' ')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\n' || c == '\r' {
			c = ' '
		}
		b = append(b, c)
	}
	return append(b, '\n')
}

// AppendExit ends an answer with the helper's exit status.
func AppendExit(b []byte, status int) []byte {
	b = append(b, markExit, ' ')
	b = strconv.AppendInt(b, int64(status), 10)
	return append(b, '\n')
}

// Answer is an answer read back: what goes to stdout and to stderr, and the
// exit status.
type Answer struct {
	Out, Err []byte
	Status   int
}

// ErrShortAnswer means the answer ended before its end line.
var ErrShortAnswer = errors.New("the agent closed the connection before the end of its answer")

// errBadAnswer means the answer holds a line that is not one of its three
// kinds, or a line for git that git could not read back as one attribute.
var errBadAnswer = errors.New("a line that is not keyfob's answer (a NUL or CR, or not key=value)")

// AnswerEnd returns the length of the first whole answer in b (through its
// end line), or -1 when b does not hold one yet.
func AnswerEnd(b []byte) int {
	for off := 0; off < len(b); {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			return -1
		}
		if b[off] == markExit {
			return off + i + 1
		}
		off += i + 1
	}
	return -1
}

// ParseAnswer splits a whole answer (through its end line). The lines for
// git must each be key=value with no NUL or CR, and the lines for the user
// no NUL or CR: anything else refuses the whole answer, so that git is
// given all of it or nothing. Out and Err point into b.
func ParseAnswer(b []byte) (Answer, error) {
	var a Answer
	outEnd := 0
	// Lines for git come first; the marks are dropped by moving the
	// lines down in b, so Out and Err are runs of b.
	w := 0
	errStart := -1
	for off := 0; off < len(b); {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 2 || b[off+1] != ' ' {
			return Answer{}, errBadAnswer
		}
		line := b[off+2 : off+i]
		mark := b[off]
		off += i + 1
		if bytes.ContainsAny(line, "\x00\r") {
			return Answer{}, errBadAnswer
		}
		switch {
		case mark == markOut && errStart < 0:
			if _, ok := CheckGitLine(line); !ok {
				return Answer{}, errBadAnswer
			}
			w += copy(b[w:], line)
			b[w] = '\n'
			w++
			outEnd = w
		case mark == markErr:
			if errStart < 0 {
				errStart = w
			}
			w += copy(b[w:], line)
			b[w] = '\n'
			w++
		case mark == markExit && off == len(b):
			n, err := strconv.Atoi(string(line))
			if err != nil || n < 0 || n > 255 {
				return Answer{}, errBadAnswer
			}
			a.Status = n
			a.Out = b[:outEnd]
			if errStart >= 0 {
				a.Err = b[errStart:w]
			}
			return a, nil
		default:
			return Answer{}, errBadAnswer
		}
	}
	return Answer{}, ErrShortAnswer
}
