package store

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/keyfob/keyfob/client"
)

// keyringFile opens keyring's own file backend on dir, as keyfob did
// before it read the files itself.
func keyringFile(t *testing.T, dir, pass string) keyring.Keyring {
	t.Helper()
	kr, err := keyring.Open(keyring.Config{
		AllowedBackends:  []keyring.BackendType{keyring.FileBackend},
		FileDir:          dir,
		FilePasswordFunc: func(string) (string, error) { return pass, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// Items keyring's file backend wrote are read, and items keyfob writes
// are read by keyring: the format is keyring's.
func TestFileItemsAreKeyringItems(t *testing.T) {
	const pass = "test passphrase"
	dir := filepath.Join(t.TempDir(), "keyring")
	opts := Options{Backend: File, Dir: dir, Passphrase: client.NewSecret(pass)}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(sample("ours")); err != nil {
		t.Fatal(err)
	}
	kr := keyringFile(t, dir, pass)
	it, err := kr.Get(keyPrefix + "ours")
	if err != nil {
		t.Fatalf("keyring Get of keyfob's item: %v", err)
	}
	if !bytes.Contains(it.Data, []byte(canary)) || it.Key != keyPrefix+"ours" || it.Label != keyPrefix+"ours" {
		t.Fatalf("keyring reads keyfob's item as %+v", it)
	}
	// An item as keyring writes it, holding what keyfob's Put wrote.
	it.Key, it.Label = keyPrefix+"theirs", keyPrefix+"theirs"
	it.Data = bytes.Replace(it.Data, []byte(`"name":"ours"`), []byte(`"name":"theirs"`), 1)
	if err := kr.Set(it); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(opts)
	if err != nil {
		t.Fatalf("Open after keyring wrote an item: %v", err)
	}
	got, err := s.Get("theirs")
	if err != nil || got.Secret.Bytes() == nil || string(got.Secret.Bytes()) != canary || got.Meta.Username != "x-access-token" {
		t.Fatalf("Get(theirs) = %+v, %v; want keyring's item", got, err)
	}
	s.Close()
	if _, err := s.Get("theirs"); err == nil {
		t.Fatal("Get after Close succeeded")
	}
	if err := s.Put(sample("later")); err == nil {
		t.Fatal("Put after Close succeeded")
	}
	if _, _, err := s.Load(); err == nil {
		t.Fatal("Load after Close succeeded")
	}
	if err := s.Remove("ours"); err == nil {
		t.Fatal("Remove after Close succeeded")
	}
	// keyring with the wrong passphrase cannot read keyfob's item.
	if _, err := keyringFile(t, dir, "not it").Get(keyPrefix + "ours"); err == nil {
		t.Fatal("keyring read keyfob's item with the wrong passphrase")
	}
}

func TestPBKDF2MatchesStandardLibrary(t *testing.T) {
	salt := []byte(jweAlg + "\x00saltsaltsalt")
	for _, n := range []int{0, 1, 31, 32, 63, 64, 65, 100, 127, 128, 129, 300} {
		pass := strings.Repeat("p", n)
		for _, keyLen := range []int{16, 32, 33, 64} {
			want, err := pbkdf2.Key(sha256.New, pass, salt, 3, keyLen)
			if err != nil {
				if n == 0 {
					continue // the FIPS module refuses an empty password
				}
				t.Fatal(err)
			}
			if got := pbkdf2SHA256([]byte(pass), salt, 3, keyLen); !bytes.Equal(got, want) {
				t.Errorf("pbkdf2SHA256(%d-byte password, %d) = %x, want %x", n, keyLen, got, want)
			}
		}
	}
}

func TestFileItemRefusesCraftedFiles(t *testing.T) {
	pass := []byte("pw")
	plain := []byte(`{"Data":"eA==","Key":"k"}`)
	tok, err := jweEncrypt(plain, pass, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := jweDecrypt(tok, pass); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("jweDecrypt(jweEncrypt(x)) = %q, %v", got, err)
	}
	parts := bytes.Split(tok, []byte("."))
	for name, bad := range map[string][]byte{
		"wrong passphrase": nil,
		"four parts":       bytes.Join(parts[:4], []byte(".")),
		"header changed":   bytes.Join(append([][]byte{[]byte(b64.EncodeToString([]byte(`{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":8192,"p2s":"AAAAAAAAAAAAAAAA"}`)))}, parts[1:]...), []byte(".")),
		"huge count":       bytes.Join(append([][]byte{[]byte(b64.EncodeToString([]byte(`{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","p2c":99999999,"p2s":"AAAA"}`)))}, parts[1:]...), []byte(".")),
		"zip":              bytes.Join(append([][]byte{[]byte(b64.EncodeToString([]byte(`{"alg":"PBES2-HS256+A128KW","enc":"A256GCM","zip":"DEF","p2c":1,"p2s":"AAAA"}`)))}, parts[1:]...), []byte(".")),
		"padded":           append(append([]byte(nil), tok...), '='),
	} {
		p := pass
		if bad == nil {
			bad, p = tok, []byte("not it")
		}
		if _, err := jweDecrypt(bad, p); !errors.Is(err, errFileItem) {
			t.Errorf("jweDecrypt(%s) = %v, want errFileItem", name, err)
		}
	}
}
