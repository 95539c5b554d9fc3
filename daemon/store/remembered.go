package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyfob/keyfob/client"
)

// rememberedPrefix names the items of credentials git approved for a host
// the config remembers. The rest of the key is a hash of what identifies
// the credential (RememberedKey.ID), so protocol, host, path and username
// never reach a key or, with pass, a file name.
const rememberedPrefix = "keyfob.remembered."

// RememberedKey is what identifies a remembered credential: git's
// protocol, host, path (sent with credential.useHttpPath only) and
// username. One item holds one key's credential; storing again replaces it.
type RememberedKey struct {
	Protocol string `json:"protocol"`
	Host     string `json:"host"`
	Path     string `json:"path,omitempty"`
	Username string `json:"username"`
}

// ID is the item's name: the first 32 hex digits of the SHA-256 of the
// key's fields, each ended by a NUL (no field holds one).
func (k RememberedKey) ID() string {
	h := sha256.New()
	for _, f := range []string{k.Protocol, k.Host, k.Path, k.Username} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// RememberedMeta is what keyfob records about a remembered credential,
// inside the same item.
type RememberedMeta struct {
	RememberedKey
	// Expires is git's password_expiry_utc, zero for none.
	Expires time.Time `json:"expires,omitzero"`
	// Stored is when git last approved it: the newest answers first.
	Stored time.Time `json:"stored"`
}

// Remembered is a credential git approved, kept for a remembered host: the
// password and the OAuth refresh token are secrets.
type Remembered struct {
	Meta     RememberedMeta
	Password client.Secret
	Refresh  client.Secret
}

// rememberedItem is the JSON inside the item. The two secrets are decoded
// from their raw JSON into bytes, never Go strings, and written by
// appending their bytes after the other fields.
type rememberedItem struct {
	V        int             `json:"v"`
	ID       string          `json:"id"`
	Meta     RememberedMeta  `json:"meta"`
	Password json.RawMessage `json:"password,omitempty"`
	Refresh  json.RawMessage `json:"refresh,omitempty"`
}

func (s *Store) getRemembered(key string) (Remembered, error) {
	var in rememberedItem
	// read decodes (and wipes) the password; the refresh token is
	// decoded here, and its raw bytes wiped as well.
	pass, err := s.read(key, &in, &in.Password)
	defer clear(in.Refresh)
	if err != nil {
		return Remembered{}, err
	}
	bad := func() (Remembered, error) {
		pass.Wipe()
		return Remembered{}, fmt.Errorf("read %s from %s keyring: not a keyfob item", key, s.backend)
	}
	if in.V != itemV || rememberedPrefix+in.ID != key || in.Meta.ID() != in.ID {
		return bad()
	}
	var refresh client.Secret
	if in.Refresh != nil {
		if refresh, err = client.DecodeSecretJSON(in.Refresh); err != nil {
			return bad()
		}
	}
	return Remembered{Meta: in.Meta, Password: pass, Refresh: refresh}, nil
}

// LoadRemembered reads every remembered credential, as Load does tokens.
func (s *Store) LoadRemembered() ([]Remembered, []error, error) {
	return loadAll(s, rememberedPrefix, s.getRemembered)
}

// PutRemembered writes r, secrets and metadata together, replacing the
// item of the same key in one write.
func (s *Store) PutRemembered(r Remembered) error {
	id := r.Meta.ID()
	v := rememberedItem{V: itemV, ID: id, Meta: r.Meta}
	return s.writeSecrets(rememberedPrefix, id, "keyfob remembered credential for "+r.Meta.Host, v,
		[]namedSecret{{"password", r.Password}, {"refresh", r.Refresh}})
}

// RemoveRemembered deletes the item of the credential whose key has id.
func (s *Store) RemoveRemembered(id string) error { return s.remove(rememberedPrefix, id) }
