package client

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
)

const redacted = "[redacted]"

// Secret carries a token or passphrase. Every print and marshal path shows
// "[redacted]"; the value itself is reached only through Reveal, so a
// reviewer can find every place a secret leaves its box with one grep.
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

// Reveal returns the secret value. Call it only where the value must leave
// the process: the wire codec, the git helper's stdout, the keyring item.
func (s Secret) Reveal() string { return string(s.b) }

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
