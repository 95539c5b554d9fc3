// Package store keeps keyfob's tokens in the system keychain. It is the only
// package that imports keyring: the rest of keyfob sees Tokens, never
// keyring items. Each token is one item whose data holds the secret and its
// metadata together, so one write changes both.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/99designs/keyring"

	_ "github.com/keyfob/keyfob/daemon/busenv" // before keyring's init

	"github.com/keyfob/keyfob/client"
)

// Backend names, as --backend and KEYFOB_BACKEND take them.
const (
	SecretService = "secret-service"
	Keychain      = "keychain"
	KeyCtl        = "keyctl"
	Pass          = "pass"
	File          = "file"
)

// Backends lists the backend names keyfob accepts.
var Backends = []string{SecretService, Keychain, KeyCtl, Pass, File}

const (
	keyPrefix = "keyfob.token."
	checkKey  = "keyfob.check"
	checkData = "keyfob passphrase check v1"
	itemV     = 1
)

var (
	// ErrNotFound means no token has that name.
	ErrNotFound = errors.New("no such token")
	// ErrBadPassphrase means the file backend's passphrase does not open
	// the items already there.
	ErrBadPassphrase = errors.New("wrong passphrase for the file keyring")
	// ErrNeedPassphrase means the file backend was opened without one.
	ErrNeedPassphrase = errors.New("the file keyring needs a passphrase")
	// ErrUnavailable means the backend cannot be used on this machine.
	ErrUnavailable = errors.New("keychain backend unavailable")
)

// Meta is what keyfob records about a token, inside the same item.
type Meta struct {
	Hosts       []string      `json:"hosts"`
	Username    string        `json:"username"`
	Created     time.Time     `json:"created"`
	Rotated     time.Time     `json:"rotated,omitzero"`
	Expires     time.Time     `json:"expires,omitzero"`
	RotateEvery time.Duration `json:"rotate_every,omitempty"`

	// What the API said at the last validation.
	Login      string    `json:"login,omitempty"`
	Kind       string    `json:"kind,omitempty"`
	Scopes     []string  `json:"scopes,omitempty"`
	Validated  time.Time `json:"validated,omitzero"`
	Validation string    `json:"validation,omitempty"` // valid, unverified, invalid, missing-permissions
	// ValidationMsg is the API's own words (or why it was not asked).
	ValidationMsg string `json:"validation_msg,omitempty"`

	LastUsed     time.Time `json:"last_used,omitzero"`
	LastRejected time.Time `json:"last_rejected,omitzero"`
	// RejectedAt is the host/path of the last rejection git reported.
	RejectedAt string `json:"rejected_at,omitempty"`

	// A user token from keyfob login: the app's client id and the web
	// base it refreshes at, and when its refresh token expires (the
	// refresh token itself is Token.Refresh).
	ClientID       string    `json:"client_id,omitempty"`
	OAuthWeb       string    `json:"oauth_web,omitempty"`
	RefreshExpires time.Time `json:"refresh_expires,omitzero"`
}

// Token is a named secret with its metadata.
type Token struct {
	Name   string
	Secret client.Secret
	// Refresh is a user token's refresh token (keyfob login), zero for
	// any other token. It is written in the same item as Secret.
	Refresh client.Secret
	Meta    Meta
}

// item is the JSON inside a keychain item. The secret is decoded from its
// raw JSON into bytes (never a Go string), and written by appending its
// bytes after the other fields (write).
type item struct {
	V      int             `json:"v"`
	Name   string          `json:"name"`
	Secret json.RawMessage `json:"secret,omitempty"`
	// Refresh is a user token's refresh token, decoded like Secret.
	Refresh json.RawMessage `json:"refresh,omitempty"`
	Meta    Meta            `json:"meta"`
}

// Options selects and configures a backend.
type Options struct {
	Backend string
	// Dir holds the file backend's items.
	Dir string
	// Passphrase opens the file backend.
	Passphrase client.Secret
	// PassDir is the password-store directory for the pass backend; ""
	// means pass's own default.
	PassDir string
}

// Store is an open keychain.
type Store struct {
	backend string
	dir     string
	// pass is the file backend's passphrase, in bytes the store owns
	// and Close wipes. keyring never sees it (file.go).
	pass []byte
	kr   keyring.Keyring
}

// ValidName reports whether name can name a token. Names become keychain
// keys and, with pass, file names, so they may not contain "/", "..",
// whitespace or control characters.
func ValidName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("invalid token name %q: want 1 to 128 characters", name)
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("invalid token name %q: \"..\" is not allowed", name)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:@-+", r)
		if !ok {
			return fmt.Errorf("invalid token name %q: use letters, digits and . _ : @ - +", name)
		}
	}
	if name[0] == '.' || name[0] == '-' {
		return fmt.Errorf("invalid token name %q: must not start with %q", name, name[0])
	}
	return nil
}

// keyringConfig is keyring's configuration for opts: one backend, never
// another.
func keyringConfig(opts Options) keyring.Config {
	return keyring.Config{
		AllowedBackends:         []keyring.BackendType{keyring.BackendType(opts.Backend)},
		ServiceName:             "keyfob",
		LibSecretCollectionName: "login",
		KeychainName:            "login",
		KeyCtlScope:             "user",
		KeyCtlPerm:              keyctlPerm,
		PassDir:                 opts.PassDir,
		PassPrefix:              "keyfob",
		FileDir:                 opts.Dir,
	}
}

// Open opens the backend named in opts. It does not read any item.
func Open(opts Options) (*Store, error) {
	if !slices.Contains(Backends, opts.Backend) {
		return nil, fmt.Errorf("unknown backend %q: want one of %s", opts.Backend, strings.Join(Backends, ", "))
	}
	cfg := keyringConfig(opts)
	s := &Store{backend: opts.Backend, dir: opts.Dir}
	if opts.Backend == File {
		if opts.Dir == "" {
			return nil, errors.New("open file keyring: no directory")
		}
		if opts.Passphrase.IsZero() {
			return nil, ErrNeedPassphrase
		}
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("open file keyring: %w", err)
		}
		removeStaged(opts.Dir)
		s.pass = slices.Clone(opts.Passphrase.Bytes())
		// keyring lists and removes the files; it never reads or writes
		// one (file.go), so it is never given the passphrase.
		cfg.FilePasswordFunc = func(string) (string, error) {
			return "", errors.New("file keyring: items are read by keyfob, not keyring")
		}
	}
	kr, err := keyring.Open(cfg)
	if err != nil {
		s.Close()
		if errors.Is(err, keyring.ErrNoAvailImpl) {
			return nil, fmt.Errorf("open %s keyring: %w", opts.Backend, ErrUnavailable)
		}
		return nil, fmt.Errorf("open %s keyring: %w", opts.Backend, err)
	}
	if err := checkUnlocked(opts); err != nil {
		s.Close()
		return nil, fmt.Errorf("open %s keyring: %w", opts.Backend, err)
	}
	s.kr = kr
	if opts.Backend == File {
		if err := s.checkPassphrase(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// errClosed is what a Store answers after Close.
var errClosed = errors.New("keychain closed (locked)")

// Close wipes the passphrase and drops the keychain. Every use after it
// fails.
func (s *Store) Close() {
	clear(s.pass)
	s.pass, s.kr = nil, nil
}

// getItem reads one item; its Data is the caller's to wipe.
func (s *Store) getItem(key string) (keyring.Item, error) {
	switch {
	case s.kr == nil:
		return keyring.Item{}, errClosed
	case s.backend == File:
		return s.fileGet(key)
	}
	it, err := s.kr.Get(key)
	return it, s.classify(err)
}

// Backend returns the backend's name.
func (s *Store) Backend() string { return s.backend }

// checkPassphrase proves the file passphrase against a marker item, written
// on first use, so a mistyped passphrase cannot write items nobody can read.
func (s *Store) checkPassphrase() error {
	it, err := s.getItem(checkKey)
	defer clear(it.Data)
	if errors.Is(err, keyring.ErrKeyNotFound) {
		keys, kerr := s.keys(keyPrefix)
		if kerr != nil {
			return kerr
		}
		if len(keys) > 0 {
			// Items from before the marker existed: prove the passphrase
			// on one of them.
			if _, err := s.get(keys[0]); err != nil {
				return ErrBadPassphrase
			}
		}
		return s.set(keyring.Item{Key: checkKey, Label: "keyfob passphrase check", Data: []byte(checkData)})
	}
	if err != nil || string(it.Data) != checkData {
		return ErrBadPassphrase
	}
	return nil
}

func (s *Store) get(key string) (Token, error) {
	var in item
	sec, err := s.read(key, &in, &in.Secret)
	if err != nil {
		return Token{}, err
	}
	defer clear(in.Refresh)
	if in.V != itemV || keyPrefix+in.Name != key {
		sec.Wipe()
		return Token{}, fmt.Errorf("read %s from %s keyring: not a keyfob item", key, s.backend)
	}
	t := Token{Name: in.Name, Secret: sec, Meta: in.Meta}
	if in.Refresh != nil {
		if t.Refresh, err = client.DecodeSecretJSON(in.Refresh); err != nil {
			sec.Wipe()
			return Token{}, fmt.Errorf("read %s from %s keyring: not a keyfob item", key, s.backend)
		}
	}
	return t, nil
}

// Load reads every keyfob token. An item that is not keyfob's, or does not
// decode, is skipped and reported in the returned errors list.
func (s *Store) Load() ([]Token, []error, error) { return loadAll(s, keyPrefix, s.get) }

// Get reads one token.
func (s *Store) Get(name string) (Token, error) {
	if err := ValidName(name); err != nil {
		return Token{}, err
	}
	return s.get(keyPrefix + name)
}

// Put writes t, secret and metadata together, replacing any item of the
// same name in one write.
func (s *Store) Put(t Token) error {
	return s.writeFields(keyPrefix, t.Name, "keyfob token "+t.Name, item{V: itemV, Name: t.Name, Meta: t.Meta},
		field{"secret", t.Secret}, field{"refresh", t.Refresh})
}

func (s *Store) set(it keyring.Item) error {
	var err error
	switch {
	case s.kr == nil:
		err = errClosed
	case s.backend == File:
		err = s.setFileAtomic(it)
	default:
		err = s.classify(s.kr.Set(it))
	}
	if err != nil {
		return fmt.Errorf("write %s to %s keyring: %w", it.Key, s.backend, err)
	}
	return nil
}

// setFileAtomic writes a file-backend item beside the directory and renames
// it into place: keyring's own Set truncates the file first, so a crash
// during the write would lose the token.
func (s *Store) setFileAtomic(it keyring.Item) error {
	name, err := s.fileName(it.Key)
	if err != nil {
		return err
	}
	data, err := s.fileEncode(it)
	if err != nil {
		return err
	}
	stage, err := os.MkdirTemp(s.dir, ".stage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	staged := filepath.Join(stage, filepath.Base(name))
	f, err := os.OpenFile(staged, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	crashPoint("before-rename:" + it.Key)
	if err := os.Rename(staged, name); err != nil {
		return err
	}
	crashPoint("after-rename:" + it.Key)
	return syncFile(s.dir)
}

// crashHook, when set, runs at the named points of a file-backend write,
// "before-rename:KEY" and "after-rename:KEY". Only tests set it, to kill
// the process there and prove that a crash leaves the old item or the new
// one, never neither.
var crashHook func(point string)

func crashPoint(name string) {
	if crashHook != nil {
		crashHook(name)
	}
}

// removeStaged deletes staging directories left by a write that was killed
// before its rename: they hold an item that was never acknowledged.
func removeStaged(dir string) {
	stages, _ := filepath.Glob(filepath.Join(dir, ".stage-*"))
	for _, d := range stages {
		_ = os.RemoveAll(d)
	}
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Remove deletes a token.
func (s *Store) Remove(name string) error { return s.remove(keyPrefix, name) }

// DefaultBackend is keychain on macOS (when built with cgo, as make build
// builds it there), secret-service when a session bus answered at start,
// and file otherwise.
func DefaultBackend() string {
	avail := keyring.AvailableBackends()
	switch {
	case slices.Contains(avail, keyring.KeychainBackend):
		return Keychain
	case slices.Contains(avail, keyring.SecretServiceBackend):
		return SecretService
	}
	return File
}
