package client

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// decodeGitResponse decodes the agent's answer to a helper request. The
// answer to get, store and erase has only flat fields, so it is read by
// hand: the first json.Unmarshal into a Response builds reflection caches
// for its whole type graph, which in a fresh process costs more than the
// exchange with the agent. Anything it does not expect (another field, a
// null, an escape it does not handle) sends the line to DecodeResponse, so
// both give the same result (a fuzz test checks this).
func decodeGitResponse(line []byte) (*Response, error) {
	if resp, ok := fastDecode(line); ok {
		return resp, nil
	}
	return DecodeResponse(line)
}

func fastDecode(line []byte) (*Response, bool) {
	if len(line) > MaxMessage {
		return nil, false
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	if bytes.IndexByte(line, '\n') >= 0 {
		return nil, false
	}
	s := scanner{b: line}
	var resp Response
	var secret string
	s.ws()
	if !s.byte('{') {
		return nil, false
	}
	s.ws()
	if s.byte('}') {
		return nil, false // no "v"
	}
	// Keys it reads, by bit: a key twice makes DecodeResponse refuse the
	// line, so the fast path leaves such a line to it.
	var seen uint16
	for {
		s.ws()
		key, ok := s.str()
		if !ok {
			return nil, false
		}
		s.ws()
		if !s.byte(':') {
			return nil, false
		}
		s.ws()
		bit := fastKey(key)
		if bit == 0 || seen&bit != 0 {
			return nil, false
		}
		seen |= bit
		var dst *string
		switch key {
		case "v":
			n, ok := s.int()
			if !ok {
				return nil, false
			}
			resp.V = int(n)
		case "expiry":
			if resp.Expiry, ok = s.int(); !ok {
				return nil, false
			}
		case "warnings":
			if resp.Warnings, ok = s.strs(); !ok {
				return nil, false
			}
		case "code":
			dst = &resp.Code
		case "error":
			dst = &resp.Error
		case "hint":
			dst = &resp.Hint
		case "username":
			dst = &resp.Username
		case "token":
			dst = &resp.Token
		case "fp":
			dst = &resp.Fingerprint
		case "route":
			dst = &resp.Route
		case "reason":
			dst = &resp.Reason
		case "secret":
			dst = &secret
		default:
			return nil, false
		}
		if dst != nil {
			if *dst, ok = s.str(); !ok {
				return nil, false
			}
		}
		s.ws()
		if s.byte('}') {
			break
		}
		if !s.byte(',') {
			return nil, false
		}
	}
	s.ws()
	if s.i != len(s.b) || seen&fastKey("v") == 0 || resp.V != Version {
		return nil, false
	}
	resp.Secret = NewSecret(secret)
	return &resp, true
}

// fastKey returns the bit of a key fastDecode reads, 0 for any other key.
func fastKey(key string) uint16 {
	for i, k := range [...]string{"v", "expiry", "warnings", "code", "error", "hint", "username", "token", "fp", "route", "reason", "secret"} {
		if k == key {
			return 1 << i
		}
	}
	return 0
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\r' || s.b[s.i] == '\n') {
		s.i++
	}
}

func (s *scanner) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// int reads an integer: an optional minus and digits, no fraction or
// exponent, as encoding/json accepts for an int64.
func (s *scanner) int() (int64, bool) {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || (s.b[digits] == '0' && s.i-digits > 1) {
		return 0, false
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	return n, err == nil
}

// strs reads an array of strings.
func (s *scanner) strs() ([]string, bool) {
	if !s.byte('[') {
		return nil, false
	}
	list := []string{}
	s.ws()
	if s.byte(']') {
		return list, true
	}
	for {
		s.ws()
		v, ok := s.str()
		if !ok {
			return nil, false
		}
		list = append(list, v)
		s.ws()
		if s.byte(']') {
			return list, true
		}
		if !s.byte(',') {
			return nil, false
		}
	}
}

// str reads a JSON string. It gives up (false) on surrogate escapes and
// invalid UTF-8, which encoding/json rewrites; the caller then falls back.
func (s *scanner) str() (string, bool) {
	if !s.byte('"') {
		return "", false
	}
	var out []byte
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			var v string
			if out == nil {
				v = string(s.b[start:s.i])
			} else {
				v = string(append(out, s.b[start:s.i]...))
			}
			s.i++
			return v, true
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			s.i += size
		case c == '\\':
			out = append(out, s.b[start:s.i]...)
			s.i++
			if s.i >= len(s.b) {
				return "", false
			}
			e := s.b[s.i]
			s.i++
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				if s.i+4 > len(s.b) {
					return "", false
				}
				n, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 16)
				if err != nil || (n >= 0xD800 && n <= 0xDFFF) {
					return "", false
				}
				out = utf8.AppendRune(out, rune(n))
				s.i += 4
			default:
				return "", false
			}
			start = s.i
		default:
			s.i++
		}
	}
	return "", false
}
