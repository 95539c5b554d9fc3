package client

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/keyfob/keyfob/client/pump"
)

// ErrTooLarge is returned for a message longer than MaxMessage.
var ErrTooLarge = errors.New("message exceeds 64 KiB")

type requestAlias Request
type responseAlias Response

// The wire forms add "secret" to a message. It is decoded straight into
// bytes (wireSecret) and encoded by appending those bytes to the line, so
// no Go string ever holds it: a string cannot be wiped.
type wireRequest struct {
	*requestAlias
	Secret  wireSecret `json:"secret"`
	Refresh wireSecret `json:"refresh"`
}

type wireResponse struct {
	*responseAlias
	Secret  wireSecret `json:"secret"`
	Refresh wireSecret `json:"refresh"`
}

// EncodeRequest returns req as one wire line, newline included. The line
// holds req's secret: clear it once written.
func EncodeRequest(req *Request) ([]byte, error) {
	return encode((*requestAlias)(req), req.Secret, req.Refresh)
}

// EncodeResponse returns resp as one wire line, newline included. The line
// holds resp's secret: clear it once written.
func EncodeResponse(resp *Response) ([]byte, error) {
	return encode((*responseAlias)(resp), resp.Secret, resp.Refresh)
}

// encode marshals v, which has no secret, and appends "secret" and then
// "refresh" as the last fields, where encoding/json put them when it
// marshalled the wire form; an empty one is left out. The line is
// allocated once at its largest size, so growing it leaves no partial
// copy of a secret behind.
func encode(v any, secret, refresh Secret) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(js) < 2 || js[len(js)-1] != '}' {
		return nil, fmt.Errorf("encode message: not an object")
	}
	fields := [...]struct {
		key string
		s   Secret
	}{{`,"secret":`, secret}, {`,"refresh":`, refresh}}
	n := len(js) + 1 // the newline
	for _, f := range fields {
		if !f.s.IsZero() {
			n += len(f.key) + 2 + 6*f.s.Len() // every byte escaped at worst as \u00XX
		}
	}
	if len(js)+secret.Len()+refresh.Len() > MaxMessage {
		return nil, ErrTooLarge
	}
	b := make([]byte, 0, n)
	b = append(b, js[:len(js)-1]...)
	for _, f := range fields {
		if f.s.IsZero() {
			continue
		}
		if len(b) > 1 {
			b = append(b, f.key...)
		} else {
			b = append(b, f.key[1:]...)
		}
		b = f.s.AppendJSON(b)
	}
	b = append(b, '}', '\n')
	if len(b) > MaxMessage {
		clear(b)
		return nil, ErrTooLarge
	}
	return b, nil
}

// DecodeRequest parses one wire line (with or without its newline). Keys
// match exactly, and a key twice in one object makes the line malformed.
// The request's secret has bytes of its own; the caller clears line.
func DecodeRequest(line []byte) (*Request, error) {
	req := new(Request)
	w := wireRequest{requestAlias: (*requestAlias)(req)}
	if err := decode(line, &w, requestShape()); err != nil {
		w.Secret.wipe()
		w.Refresh.wipe()
		return nil, err
	}
	req.Secret, req.Refresh = Secret{b: w.Secret}, Secret{b: w.Refresh}
	if req.V != Version {
		req.Secret.Wipe()
		req.Refresh.Wipe()
		return nil, fmt.Errorf("unsupported protocol version %d (this agent speaks %d)", req.V, Version)
	}
	if req.Op == "" {
		req.Secret.Wipe()
		req.Refresh.Wipe()
		return nil, errors.New("missing op")
	}
	return req, nil
}

// DecodeResponse parses one wire line (with or without its newline), as
// exactly as DecodeRequest.
func DecodeResponse(line []byte) (*Response, error) {
	resp := new(Response)
	w := wireResponse{responseAlias: (*responseAlias)(resp)}
	if err := decode(line, &w, responseShape()); err != nil {
		w.Secret.wipe()
		w.Refresh.wipe()
		return nil, err
	}
	resp.Secret, resp.Refresh = Secret{b: w.Secret}, Secret{b: w.Refresh}
	if resp.V != Version {
		resp.Secret.Wipe()
		resp.Refresh.Wipe()
		return nil, fmt.Errorf("unsupported protocol version %d (this client speaks %d)", resp.V, Version)
	}
	return resp, nil
}

func decode(line []byte, v any, sh *shape) error {
	if len(line) > MaxMessage {
		return ErrTooLarge
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	if bytes.IndexByte(line, '\n') >= 0 {
		return errors.New("malformed message: embedded newline")
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	if err := checkKeys(line, sh); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	return nil
}

// wireSecret decodes the "secret" field into bytes of its own.
type wireSecret []byte

// UnmarshalJSON implements json.Unmarshaler. data is a slice of the line
// being decoded; the string's value is unquoted from it directly into a
// buffer of the right size.
func (s *wireSecret) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	if len(data) < 2 || data[0] != '"' || data[len(data)-1] != '"' {
		return errors.New("secret: want a string")
	}
	// A second "secret" key is refused after decoding; until then, wipe
	// what the first one left.
	s.wipe()
	n, ok := unquote(nil, data[1:len(data)-1])
	if !ok {
		return errors.New("secret: invalid string")
	}
	if n == 0 {
		*s = nil
		return nil
	}
	b := make([]byte, n)
	unquote(b, data[1:len(data)-1])
	*s = b
	return nil
}

func (s *wireSecret) wipe() {
	clear(*s)
	*s = nil
}

// unquote decodes the inside of a JSON string literal as encoding/json
// does (escapes, surrogate pairs, invalid UTF-8 and lone surrogates as
// U+FFFD) into dst and returns the decoded length. With a nil dst it only
// counts, so the caller can allocate the exact size once.
func unquote(dst, s []byte) (int, bool) {
	n := 0
	put := func(c byte) {
		if dst != nil {
			dst[n] = c
		}
		n++
	}
	putRune := func(r rune) {
		if dst != nil {
			utf8.EncodeRune(dst[n:], r)
		}
		n += utf8.RuneLen(r)
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return 0, false
			}
			i += 2
			switch s[i-1] {
			case '"', '\\', '/':
				put(s[i-1])
			case 'b':
				put('\b')
			case 'f':
				put('\f')
			case 'n':
				put('\n')
			case 'r':
				put('\r')
			case 't':
				put('\t')
			case 'u':
				r := hex4(s[i:])
				if r < 0 {
					return 0, false
				}
				i += 4
				if utf16.IsSurrogate(r) {
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if r2 := hex4(s[i+2:]); r2 >= 0 {
							if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
								putRune(d)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				putRune(r)
			default:
				return 0, false
			}
		case c == '"' || c < ' ':
			return 0, false
		case c < utf8.RuneSelf:
			put(c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			putRune(r)
			i += size
		}
	}
	return n, true
}

// hex4 reads four hex digits, -1 if they are not.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// ReadLine reads one wire line from r. It fails with ErrTooLarge once the line
// passes MaxMessage, without buffering more than that. The line may hold a
// secret, so ReadLine leaves no other copy: it clears r's buffer where the
// line was, and never grows the line by reallocation without clearing the
// old one. The caller clears the line when done with it.
func ReadLine(r *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxMessage {
			clear(chunk)
			clear(buf)
			return nil, ErrTooLarge
		}
		buf = append(pump.Grow(buf, len(chunk)), chunk...)
		// chunk is r's buffer, already consumed.
		clear(chunk)
		switch {
		case err == nil:
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			clear(buf)
			return nil, io.ErrUnexpectedEOF
		default:
			clear(buf)
			return nil, err
		}
	}
}
