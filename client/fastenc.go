package client

import (
	"strconv"
	"unicode/utf8"
)

// The git helper runs once per fetch, so its cost is mostly start-up. The
// first json.Marshal of a Request builds encoding/json's reflection caches
// for the whole type graph, which costs about 0.1 ms in a fresh process. The
// helper's requests carry only an op and a credential, so it encodes them by
// hand here instead: the bytes are exactly those EncodeRequest produces (a
// test checks this), so the wire format does not change.

// appendGitRequest appends the wire line for a request carrying only op and
// cred, byte for byte what EncodeRequest writes for it.
func appendGitRequest(b []byte, op string, c *Credential) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, Version, 10)
	b = append(b, `,"op":`...)
	b = appendJSONString(b, op)
	if c != nil {
		b = append(b, `,"cred":{`...)
		first := true
		emptyUser, emptyPass, expiry := "", "", ""
		if c.EmptyUsername {
			emptyUser = "true"
		}
		if c.EmptyPassword {
			emptyPass = "true"
		}
		if c.PasswordExpiryUTC != 0 {
			expiry = strconv.FormatInt(c.PasswordExpiryUTC, 10)
		}
		// raw values are JSON literals, the others strings.
		for _, f := range [...]struct {
			k, v string
			raw  bool
		}{
			{"protocol", c.Protocol, false}, {"host", c.Host, false}, {"path", c.Path, false},
			{"username", c.Username, false}, {"empty_username", emptyUser, true},
			{"password_fp", c.PasswordFP, false}, {"state", c.State, false},
			{"password_expiry_utc", expiry, true}, {"empty_password", emptyPass, true},
		} {
			if f.v == "" {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '"')
			b = append(b, f.k...)
			b = append(b, `":`...)
			if f.raw {
				b = append(b, f.v...)
				continue
			}
			b = appendJSONString(b, f.v)
		}
		b = append(b, '}')
	}
	return append(b, "}\n"...)
}

// appendJSONString quotes s as encoding/json does with its default HTML
// escaping: <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029
// escaped, and invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// gitRequestLine is the wire line for a request of op, cred and, for
// store, git's password and refresh token: byte for byte what
// EncodeRequest writes ("secret", then "refresh", last). The line is
// allocated once, with room for the secrets escaped at worst, so no
// partial copy of one is left behind; the caller clears it once sent. ok
// is false when the line would pass MaxMessage (Call then refuses it).
func gitRequestLine(op string, c *Credential, secret, refresh Secret) (line []byte, ok bool) {
	body := appendGitRequest(make([]byte, 0, 256), op, c)
	if secret.IsZero() && refresh.IsZero() {
		return body, len(body) <= MaxMessage
	}
	if len(body)+secret.Len()+refresh.Len() > MaxMessage {
		return nil, false
	}
	body = body[:len(body)-2] // "}\n"
	b := make([]byte, 0, len(body)+len(`,"secret":,"refresh":}`)+4+1+6*(secret.Len()+refresh.Len()))
	b = append(b, body...)
	if !secret.IsZero() {
		b = append(b, `,"secret":`...)
		b = secret.AppendJSON(b)
	}
	if !refresh.IsZero() {
		b = append(b, `,"refresh":`...)
		b = refresh.AppendJSON(b)
	}
	b = append(b, '}', '\n')
	if len(b) > MaxMessage {
		clear(b)
		return nil, false
	}
	return b, true
}
