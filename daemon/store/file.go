package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/99designs/keyring"
	joseaes "github.com/dvsekhvalnov/jose2go/aes"
)

// The file backend's items are read and written here, not by keyring, in
// the format keyring's file backend uses, so either can read what the
// other wrote: one file per item, named by its key, holding a compact JWE
// (RFC 7516) with PBES2-HS256+A128KW key wrapping and A256GCM encryption
// of the JSON of a keyring.Item, whose Data is base64. keyring takes the
// passphrase as a string and decrypts into strings (through jose2go's
// Decode and Encrypt), and a string cannot be wiped: every read would
// leave the passphrase and the item, the secret in it, in the heap. Here
// the passphrase, the derived keys and the plaintext are byte slices,
// wiped once used. What remains is in docs/security.md.

const (
	jweAlg = "PBES2-HS256+A128KW"
	jweEnc = "A256GCM"
	// jweIter is the PBES2 iteration count written, jose2go's default.
	jweIter = 8192
	// jweMaxIter bounds the count read, as jose2go does, so a crafted
	// file cannot make a read take minutes.
	jweMaxIter = 1300000
)

var b64 = base64.RawURLEncoding.Strict()

// errFileItem is any item file that does not decrypt: the wrong
// passphrase, or not an item at all.
var errFileItem = errors.New("item does not decrypt")

// fileName is the item's file: keyring percent-encodes "%" and "/" in a
// key, and keyfob's keys hold neither.
func (s *Store) fileName(key string) (string, error) {
	if strings.ContainsAny(key, "%/") || key == "" || key[0] == '.' {
		return "", fmt.Errorf("file keyring: unusable key %q", key)
	}
	return filepath.Join(s.dir, key), nil
}

// fileGet reads and decrypts one item. Its Data is the caller's to wipe.
func (s *Store) fileGet(key string) (keyring.Item, error) {
	name, err := s.fileName(key)
	if err != nil {
		return keyring.Item{}, err
	}
	token, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return keyring.Item{}, keyring.ErrKeyNotFound
	}
	if err != nil {
		return keyring.Item{}, err
	}
	if len(s.pass) == 0 {
		return keyring.Item{}, ErrNeedPassphrase
	}
	plain, err := jweDecrypt(token, s.pass)
	if err != nil {
		return keyring.Item{}, err
	}
	defer clear(plain)
	var it keyring.Item
	if err := json.Unmarshal(plain, &it); err != nil {
		clear(it.Data)
		return keyring.Item{}, errFileItem
	}
	return it, nil
}

// fileEncode returns the file for it. The plaintext is built in one
// buffer of its final size and wiped after encryption.
func (s *Store) fileEncode(it keyring.Item) ([]byte, error) {
	if len(s.pass) == 0 {
		return nil, ErrNeedPassphrase
	}
	js, err := json.Marshal(fileItemMeta{Key: it.Key, Label: it.Label, Description: it.Description,
		KeychainNotTrustApplication: it.KeychainNotTrustApplication, KeychainNotSynchronizable: it.KeychainNotSynchronizable})
	if err != nil {
		return nil, err
	}
	// Data goes in first, base64 as encoding/json writes a []byte.
	plain := make([]byte, 0, len(js)+len(`"Data":"",`)+base64.StdEncoding.EncodedLen(len(it.Data)))
	defer clear(plain[:cap(plain)])
	plain = append(plain, `{"Data":"`...)
	plain = base64.StdEncoding.AppendEncode(plain, it.Data)
	plain = append(plain, `",`...)
	plain = append(plain, js[1:]...)
	return jweEncrypt(plain, s.pass, time.Now())
}

// fileItemMeta is keyring.Item without its Data.
type fileItemMeta struct {
	Key                         string
	Label                       string
	Description                 string
	KeychainNotTrustApplication bool
	KeychainNotSynchronizable   bool
}

// jweHeader is the protected header keyring writes (with "created").
type jweHeader struct {
	Alg     string `json:"alg"`
	Created string `json:"created,omitempty"`
	Enc     string `json:"enc"`
	P2C     int    `json:"p2c"`
	P2S     string `json:"p2s"`
	Zip     string `json:"zip,omitempty"`
}

func jweDecrypt(token, pass []byte) ([]byte, error) {
	parts := bytes.Split(bytes.TrimSpace(token), []byte("."))
	if len(parts) != 5 {
		return nil, errFileItem
	}
	dec := make([][]byte, 5)
	for i, p := range parts {
		b, err := b64.DecodeString(string(p))
		if err != nil {
			return nil, errFileItem
		}
		dec[i] = b
	}
	var h jweHeader
	if err := json.Unmarshal(dec[0], &h); err != nil || h.Alg != jweAlg || h.Enc != jweEnc || h.Zip != "" {
		return nil, errFileItem
	}
	salt, err := b64.DecodeString(h.P2S)
	if err != nil || h.P2C < 1 || h.P2C > jweMaxIter {
		return nil, errFileItem
	}
	kek := pbkdf2SHA256(pass, append([]byte(jweAlg+"\x00"), salt...), h.P2C, 16)
	defer clear(kek)
	cek, err := joseaes.KeyUnwrap(dec[1], kek)
	if err != nil {
		return nil, errFileItem // the wrong passphrase fails the unwrap's check
	}
	defer clear(cek)
	gcm, err := newGCM(cek)
	if err != nil || len(dec[2]) != gcm.NonceSize() || len(dec[4]) != gcm.Overhead() {
		return nil, errFileItem
	}
	plain, err := gcm.Open(nil, dec[2], append(dec[3], dec[4]...), parts[0])
	if err != nil {
		return nil, errFileItem
	}
	return plain, nil
}

func jweEncrypt(plain, pass []byte, now time.Time) ([]byte, error) {
	salt := make([]byte, 12)
	cek := make([]byte, 32)
	defer clear(cek)
	nonce := make([]byte, 12)
	for _, b := range [][]byte{salt, cek, nonce} {
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
	}
	hj, err := json.Marshal(jweHeader{Alg: jweAlg, Created: now.String(), Enc: jweEnc, P2C: jweIter, P2S: b64.EncodeToString(salt)})
	if err != nil {
		return nil, err
	}
	kek := pbkdf2SHA256(pass, append([]byte(jweAlg+"\x00"), salt...), jweIter, 16)
	defer clear(kek)
	wrapped, err := joseaes.KeyWrap(cek, kek)
	if err != nil {
		return nil, err
	}
	gcm, err := newGCM(cek)
	if err != nil {
		return nil, err
	}
	header := []byte(b64.EncodeToString(hj))
	sealed := gcm.Seal(nil, nonce, plain, header)
	ct, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
	out := append([]byte(nil), header...)
	for _, p := range [][]byte{wrapped, nonce, ct, tag} {
		out = append(out, '.')
		out = b64.AppendEncode(out, p)
	}
	return out, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// pbkdf2SHA256 is PBKDF2 (RFC 8018) with HMAC-SHA256, written out so that
// the password is only ever read from pass: the standard library's takes
// it as a string, and its HMAC keeps padded copies of the key. Here the
// padded key is absorbed once into a SHA-256 state, the pad is wiped, and
// every iteration starts from a copy of that state.
func pbkdf2SHA256(pass, salt []byte, iter, keyLen int) []byte {
	var key [sha256.Size]byte
	defer clear(key[:])
	k := pass
	if len(k) > sha256.BlockSize {
		// HMAC hashes a long key first. The digest keeps the key's
		// last partial block in its buffer, even after Reset: write zeros
		// over it before letting it go.
		h := sha256.New()
		h.Write(pass)
		h.Sum(key[:0])
		h.Write(make([]byte, sha256.BlockSize-len(pass)%sha256.BlockSize+sha256.BlockSize-1))
		h.Reset()
		k = key[:]
	}
	var pad [sha256.BlockSize]byte
	defer clear(pad[:])
	state := func(x byte) []byte {
		clear(pad[:])
		copy(pad[:], k)
		for i := range pad {
			pad[i] ^= x
		}
		h := sha256.New()
		h.Write(pad[:])
		st, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
		h.Reset()
		return st
	}
	inner, outer := state(0x36), state(0x5c)
	defer clear(inner)
	defer clear(outer)
	h := sha256.New()
	defer h.Reset()
	restore := h.(encoding.BinaryUnmarshaler)
	var u, t [sha256.Size]byte
	defer clear(u[:])
	defer clear(t[:])
	mac := func(msg ...[]byte) {
		_ = restore.UnmarshalBinary(inner)
		for _, m := range msg {
			h.Write(m)
		}
		h.Sum(u[:0])
		_ = restore.UnmarshalBinary(outer)
		h.Write(u[:])
		h.Sum(u[:0])
	}
	out := make([]byte, 0, keyLen+sha256.Size)
	for block := uint32(1); len(out) < keyLen; block++ {
		mac(salt, []byte{byte(block >> 24), byte(block >> 16), byte(block >> 8), byte(block)})
		t = u
		for range iter - 1 {
			mac(u[:])
			for i := range t {
				t[i] ^= u[i]
			}
		}
		out = append(out, t[:]...)
	}
	clear(out[keyLen:cap(out)])
	return out[:keyLen:keyLen]
}
