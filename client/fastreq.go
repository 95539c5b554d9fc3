package client

import (
	"strconv"
	"unicode/utf8"
)

// The agent decodes every wire request for a credential (keyfob exec,
// keyfob token, and git-credential-keyfob's fallback, keyfob
// git-credential). encoding/json's reflection is most of that cost, so
// DecodeRequest first tries decodeGitRequest: a parser for exactly the
// lines EncodeRequest writes for an op and a credential whose strings
// need no unescaping. Anything else (a
// space, an escape, a key out of this set, a duplicate key, a secret, a
// boolean) falls back to the exact decoder, which decides. Where the fast
// parser accepts a line, its Request is the one the exact decoder makes
// (FuzzGitRequestMatchesDecode checks it).

// decodeGitRequest parses line (with or without its newline) as
// {"v":N,"op":"…"[,"cred":{"k":"…",…}]} with string-valued credential
// keys protocol, host, path, username, password_fp and state. ok is false
// when line is not of that form; the caller then decodes it exactly.
func decodeGitRequest(line []byte) (req *Request, ok bool) {
	if len(line) > MaxMessage {
		return nil, false
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	p := fastParser{b: line}
	if !p.lit(`{"v":`) {
		return nil, false
	}
	v, ok := p.version()
	if !ok || v != Version || !p.lit(`,"op":`) {
		return nil, false
	}
	op, ok := p.str()
	if !ok || op == "" {
		return nil, false
	}
	r := &Request{V: v, Op: op}
	if p.lit(`,"cred":{`) {
		c := new(Credential)
		var seen uint8
		for i := 0; !p.lit("}"); i++ {
			if i > 0 && !p.lit(",") {
				return nil, false
			}
			k, ok := p.str()
			if !ok || !p.lit(":") {
				return nil, false
			}
			val, ok := p.str()
			if !ok {
				return nil, false
			}
			var dst *string
			var bit uint8
			switch k {
			case "protocol":
				dst, bit = &c.Protocol, 1
			case "host":
				dst, bit = &c.Host, 2
			case "path":
				dst, bit = &c.Path, 4
			case "username":
				dst, bit = &c.Username, 8
			case "password_fp":
				dst, bit = &c.PasswordFP, 16
			case "state":
				dst, bit = &c.State, 32
			default:
				return nil, false
			}
			if seen&bit != 0 {
				return nil, false
			}
			seen |= bit
			*dst = val
		}
		r.Cred = c
	}
	if !p.lit("}") || p.i != len(p.b) {
		return nil, false
	}
	return r, true
}

type fastParser struct {
	b []byte
	i int
}

// lit consumes s if the input continues with it.
func (p *fastParser) lit(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// version reads a small non-negative integer without a leading zero.
func (p *fastParser) version() (int, bool) {
	j := p.i
	for j < len(p.b) && j-p.i < 6 && p.b[j] >= '0' && p.b[j] <= '9' {
		j++
	}
	if j == p.i || (p.b[p.i] == '0' && j-p.i > 1) || (j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9') {
		return 0, false
	}
	n, err := strconv.Atoi(string(p.b[p.i:j]))
	if err != nil {
		return 0, false
	}
	p.i = j
	return n, true
}

// str reads a JSON string that needs no unescaping: no backslash, no
// control character, valid UTF-8 (encoding/json would replace invalid
// bytes; the exact decoder handles those).
func (p *fastParser) str() (string, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	start, ascii := p.i+1, true
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			p.i = j + 1
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}
