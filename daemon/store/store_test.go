package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/internal/bustest"
)

const canary = "ghp_canarySTORE000000000000000000wxyz"

// backendCase opens one backend for a test, with whatever private state
// (directory, GnuPG home, key) it needs.
type backendCase struct {
	name string
	open func(t *testing.T) Options
}

func fileOpts(t *testing.T) Options {
	return Options{Backend: File, Dir: filepath.Join(t.TempDir(), "keyring"), Passphrase: client.NewSecret("test passphrase")}
}

// passOpts makes a throwaway GnuPG key and password store for pass.
func passOpts(t *testing.T) Options {
	for _, tool := range []string{"pass", "gpg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed: run make deps", tool)
		}
	}
	dir := t.TempDir()
	gnupg := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(gnupg, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GNUPGHOME", gnupg)
	store := filepath.Join(dir, "password-store")
	t.Setenv("PASSWORD_STORE_DIR", store)
	run := func(name string, args ...string) {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "keyfob-test@localhost", "default", "default", "never")
	run("pass", "init", "keyfob-test@localhost")
	t.Cleanup(func() { exec.Command("gpgconf", "--kill", "all").Run() })
	return Options{Backend: Pass, PassDir: store}
}

func keyctlOpts(t *testing.T) Options {
	if _, err := exec.LookPath("keyctl"); err != nil {
		t.Fatalf("keyctl not installed: run make deps")
	}
	// A private session keyring per test keeps runs apart; keyring's
	// "user" scope then lives under the uid's user keyring, so clean up.
	t.Cleanup(func() { exec.Command("keyctl", "purge", "user", "keyfob").Run() })
	return Options{Backend: KeyCtl}
}

var backends = []backendCase{
	{"file", fileOpts},
	{"pass", passOpts},
	{"keyctl", keyctlOpts},
}

func sample(name string) Token {
	return Token{
		Name:   name,
		Secret: client.NewSecret(canary),
		Meta: Meta{
			Hosts:       []string{"github.com", "127.0.0.1:8080"},
			Username:    "x-access-token",
			Created:     time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC),
			Expires:     time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
			RotateEvery: 30 * 24 * time.Hour,
		},
	}
}

// exercise runs the same round trip against any backend.
func exercise(t *testing.T, opts Options) {
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v", opts.Backend, err)
	}
	want := sample("github:fine-grained-acme")
	if err := s.Put(want); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if err := s.Put(sample("personal")); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if err := s.Remove("personal"); err != nil {
		t.Fatalf("Remove = %v", err)
	}
	if err := s.Remove("personal"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Remove(missing) = %v, want ErrNotFound", err)
	}

	// A second Open sees what the first wrote: the agent reads everything
	// once, at unlock.
	s2, err := Open(opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	toks, bad, err := s2.Load()
	if err != nil || len(bad) != 0 {
		t.Fatalf("Load = %v, %v", bad, err)
	}
	if len(toks) != 1 {
		t.Fatalf("Load returned %d tokens, want 1", len(toks))
	}
	got := toks[0]
	if got.Name != want.Name || !got.Secret.Equal(want.Secret) || !reflect.DeepEqual(got.Meta, want.Meta) {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}

	// Rotate: one write replaces secret and metadata together.
	rot := got
	rot.Secret = client.NewSecret("github_pat_canaryROTATED")
	rot.Meta.Rotated = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if err := s2.Put(rot); err != nil {
		t.Fatalf("Put(rotated) = %v", err)
	}
	again, err := s.Get(want.Name)
	if err != nil || !again.Secret.Equal(rot.Secret) || !again.Meta.Rotated.Equal(rot.Meta.Rotated) {
		t.Fatalf("Get after rotate = %+v, %v", again, err)
	}
	if err := s2.Remove(want.Name); err != nil {
		t.Fatalf("Remove = %v", err)
	}
}

func TestBackends(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { exercise(t, b.open(t)) })
	}
}

func TestFilePassphrase(t *testing.T) {
	opts := fileOpts(t)
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(sample("personal")); err != nil {
		t.Fatal(err)
	}
	wrong := opts
	wrong.Passphrase = client.NewSecret("not it")
	if _, err := Open(wrong); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("Open(wrong passphrase) = %v, want ErrBadPassphrase", err)
	}
	none := opts
	none.Passphrase = client.Secret{}
	if _, err := Open(none); !errors.Is(err, ErrNeedPassphrase) {
		t.Fatalf("Open(no passphrase) = %v, want ErrNeedPassphrase", err)
	}
	// Nothing of the secret is on disk in the clear.
	filepath.Walk(opts.Dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), "canary") {
				t.Errorf("%s holds the secret in the clear", p)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %04o, want 0600", p, fi.Mode().Perm())
			}
		}
		return nil
	})
}

func TestForeignItemsIgnored(t *testing.T) {
	opts := fileOpts(t)
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(sample("mine")); err != nil {
		t.Fatal(err)
	}
	// Another program's file in the same directory, and a keyfob-looking
	// name that is not a valid token name.
	for _, f := range []string{"aws-vault.default", "keyfob.token.bad..name"} {
		if err := os.WriteFile(filepath.Join(opts.Dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	toks, bad, err := s.Load()
	if err != nil || len(toks) != 1 || toks[0].Name != "mine" || len(bad) != 0 {
		t.Fatalf("Load = %v, %v, %v; want only mine", toks, bad, err)
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, "aws-vault.default")); err != nil {
		t.Fatalf("foreign item touched: %v", err)
	}
}

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"personal", true},
		{"github:fine-grained-acme", true},
		{"work@ghe.example.com", true},
		{"", false},
		{"../etc/passwd", false},
		{"a/b", false},
		{"a..b", false},
		{".hidden", false},
		{"-flag", false},
		{"tab\there", false},
		{"nul\x00", false},
		{"new\nline", false},
		{strings.Repeat("a", 129), false},
	} {
		if err := ValidName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestPassRefusesEscapingNames(t *testing.T) {
	s := &Store{backend: Pass}
	if err := s.Put(Token{Name: "../../outside", Secret: client.NewSecret(canary)}); err == nil {
		t.Fatal("Put(../../outside) succeeded, want an invalid name error")
	} else if strings.Contains(err.Error(), canary) {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

// TestSecretService runs the backend round trip against a real
// gnome-keyring, and checks that another application's item in the same
// collection is neither listed nor touched.
func TestSecretService(t *testing.T) {
	if !bustest.InBus() {
		bustest.Run(t, "TestSecretService")
		return
	}
	if DefaultBackend() != SecretService {
		t.Fatalf("DefaultBackend() = %q inside a session bus, want %q", DefaultBackend(), SecretService)
	}
	other := exec.Command("secret-tool", "store", "--label=other application", "app", "other")
	other.Stdin = strings.NewReader("other-app-secret")
	if out, err := other.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v\n%s", err, out)
	}
	exercise(t, Options{Backend: SecretService})

	s, err := Open(Options{Backend: SecretService})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(sample("personal")); err != nil {
		t.Fatal(err)
	}
	toks, bad, err := s.Load()
	if err != nil || len(bad) != 0 || len(toks) != 1 || toks[0].Name != "personal" {
		t.Fatalf("Load = %v, %v, %v; want only personal", toks, bad, err)
	}
	// secret-tool sees keyfob's item too: it is a real keychain entry.
	out, err := exec.Command("secret-tool", "search", "--all", "profile", "keyfob.token.personal").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "keyfob.token.personal") {
		t.Fatalf("secret-tool search: %v\n%s", err, out)
	}
	got, err := exec.Command("secret-tool", "lookup", "app", "other").Output()
	if err != nil || string(got) != "other-app-secret" {
		t.Fatalf("other application's item changed: %q, %v", got, err)
	}
}

// TestRefreshTokenRoundTrip checks that a user token's refresh token is
// written in the same item and read back, and that a token without one
// reads back without one.
func TestRefreshTokenRoundTrip(t *testing.T) {
	s, err := Open(fileOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user := sample("mona@github.com")
	user.Refresh = client.NewSecret("ghr_canaryREFRESH\"quoted\u00e9")
	user.Meta.ClientID, user.Meta.RefreshExpires = "Iv23liTEST", time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Put(user); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if err := s.Put(sample("plain")); err != nil {
		t.Fatalf("Put = %v", err)
	}
	got, err := s.Get("mona@github.com")
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if got.Refresh.Reveal() != user.Refresh.Reveal() || got.Secret.Reveal() != canary || got.Meta.ClientID != "Iv23liTEST" || !got.Meta.RefreshExpires.Equal(user.Meta.RefreshExpires) {
		t.Fatalf("Get = %q %q %+v", got.Secret.Reveal(), got.Refresh.Reveal(), got.Meta)
	}
	plain, err := s.Get("plain")
	if err != nil || !plain.Refresh.IsZero() {
		t.Fatalf("Get(plain) = refresh %v, %v; want none", !plain.Refresh.IsZero(), err)
	}
}
