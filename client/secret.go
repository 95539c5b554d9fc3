package client

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"unsafe"
)

const redacted = "[redacted]"

// maskPrefixes are the prefixes GitHub and GitLab put on their tokens;
// Mask keeps them.
var maskPrefixes = []string{"github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-"}

// Mask shows a token as its known prefix, four stars and its last four
// characters (ghp_****wxyz). A short token shows as stars only.
func Mask(s Secret) string {
	v := s.b // only its prefix and last four are copied
	if len(v) < 12 {
		return "****"
	}
	prefix := ""
	for _, p := range maskPrefixes {
		if bytes.HasPrefix(v, []byte(p)) {
			prefix = p
			break
		}
	}
	return prefix + "****" + string(v[len(v)-4:])
}

// Secret carries a token or passphrase, as bytes that Wipe can clear. Every
// print and marshal path shows "[redacted]"; the value itself is reached
// only through Reveal (a string copy, which cannot be wiped: for the CLI
// and the helper) and Bytes (borrowed: for the agent), so a reviewer can
// find every place a secret leaves its box with one grep.
type Secret struct {
	b []byte
}

// NewSecret copies s into a Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{b: []byte(s)}
}

// Reveal returns the secret value as a new string. Call it only where the
// value must leave a short-lived process (the git helper's stdout, keyfob
// token, keyfob exec); the agent uses Bytes, since a string cannot be
// wiped.
func (s Secret) Reveal() string { return string(s.b) }

// Bytes returns the secret's own bytes, borrowed: do not keep them, do not
// change them, and do not turn them into a string (a string cannot be
// wiped). It is for writing the secret where it must go (a file, a hash, a
// request) without a copy. Wipe clears what Bytes returned.
func (s Secret) Bytes() []byte { return s.b }

// NewSecretBytes returns a Secret that owns b: the caller gives b up, and
// a Wipe clears it.
func NewSecretBytes(b []byte) Secret {
	if len(b) == 0 {
		return Secret{}
	}
	return Secret{b: b}
}

// AppendJSON appends the secret to b as a JSON string, escaped as
// encoding/json escapes strings, for an encoder that must not copy it into
// a Go string. The caller clears b when it is done with it.
func (s Secret) AppendJSON(b []byte) []byte { return appendJSONString(b, s.view()) }

// DecodeSecretJSON decodes raw, a JSON string literal (or null), into a
// Secret with bytes of its own, as encoding/json would decode the string,
// without a Go string in between. The caller clears raw.
func DecodeSecretJSON(raw []byte) (Secret, error) {
	var w wireSecret
	if err := w.UnmarshalJSON(raw); err != nil {
		return Secret{}, err
	}
	return Secret{b: w}, nil
}

// view returns the secret as a string that shares its bytes, for the
// encoder, which only reads it. It must not outlive the call it is passed
// to: a Wipe changes it, and a kept string would pin the bytes.
func (s Secret) view() string {
	if len(s.b) == 0 {
		return ""
	}
	return unsafe.String(&s.b[0], len(s.b))
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return len(s.b) == 0 }

// Len returns the length of the secret in bytes.
func (s Secret) Len() int { return len(s.b) }

// Equal compares two secrets in constant time.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare(s.b, o.b) == 1
}

// Fingerprint returns a short SHA-256 prefix of the secret, safe to log.
func (s Secret) Fingerprint() string {
	if len(s.b) == 0 {
		return ""
	}
	return Fingerprint(s.b)
}

// Fingerprint returns the short SHA-256 prefix used to name a secret in logs
// and audit lines without revealing it.
func Fingerprint(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:6])
}

// Wipe overwrites the secret's bytes. Every copy of the Secret shares them,
// so a wipe reaches all copies.
func (s Secret) Wipe() {
	clear(s.b)
}

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter, so %v, %+v, %#v, %s, %q and %x all redact.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Clone returns a copy with bytes of its own, so a later Wipe of either one
// leaves the other intact.
func (s Secret) Clone() Secret {
	if len(s.b) == 0 {
		return Secret{}
	}
	return Secret{b: append([]byte(nil), s.b...)}
}

// HasControl reports whether the secret holds a control character (CR, LF,
// NUL, any byte below 0x20, or DEL): such a value would break git's
// line-based credential stream.
func (s Secret) HasControl() bool {
	for _, c := range s.b {
		if c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
