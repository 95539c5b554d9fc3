package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon"
	"github.com/keyfob/keyfob/daemon/doctor"
	"github.com/keyfob/keyfob/daemon/internal/bustest"
	"github.com/keyfob/keyfob/daemon/store"
)

const (
	lockedCanary = "ghp_canaryLOCKED00000000000000000wxyz"
	loginPath    = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	// loginPass is the password bustest unlocks gnome-keyring with.
	loginPass = "keyfob-test-login"
)

// secretService calls method on the Secret Service object at path, as
// another client of the bus (the keyring app, a login) would.
func secretService(t *testing.T, path dbus.ObjectPath, method string, args ...any) *dbus.Call {
	t.Helper()
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := conn.Object("org.freedesktop.secrets", path).CallWithContext(ctx, method, 0, args...)
	if c.Err != nil {
		t.Fatalf("%s: %v", method, c.Err)
	}
	return c
}

func lockLogin(t *testing.T) {
	secretService(t, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock", []dbus.ObjectPath{loginPath})
	if locked, err := store.KeychainLocked(store.Options{Backend: store.SecretService}); err != nil || !locked {
		t.Fatalf("KeychainLocked after Lock = %v, %v; want true", locked, err)
	}
}

// unlockLogin unlocks the login collection with its password, as a login
// does, through gnome-keyring's own interface (there is no prompter here
// to answer Unlock's prompt).
func unlockLogin(t *testing.T) {
	var out dbus.Variant
	var session dbus.ObjectPath
	if err := secretService(t, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service.OpenSession", "plain", dbus.MakeVariant("")).Store(&out, &session); err != nil {
		t.Fatal(err)
	}
	secret := struct {
		Session     dbus.ObjectPath
		Params      []byte
		Value       []byte
		ContentType string
	}{session, []byte{}, []byte(loginPass), "text/plain"}
	secretService(t, "/org/freedesktop/secrets", "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", loginPath, secret)
}

func waitStatus(t *testing.T, sock string, what string, ok func(*client.Status) bool) *client.Status {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Call(sock, &client.Request{Op: client.OpStatus})
		if err == nil && resp.Status != nil && ok(resp.Status) {
			return resp.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("status at %s: %+v, %v; want %s", sock, resp, err, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startAgent(t *testing.T, o daemon.Options) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, o) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}
}

// A locked login keyring is not an empty keychain: an agent started while
// it is locked says "locked: the login keyring is locked" in status, doctor
// and on the helper's stderr, hands out nothing and never suggests keyfob
// add; once the keyring is unlocked, the same agent loads the tokens and
// serves them.
func TestSecretServiceLockedIsNotEmpty(t *testing.T) {
	if !bustest.InBus() {
		bustest.Run(t, "TestSecretServiceLockedIsNotEmpty")
		return
	}
	s, err := store.Open(store.Options{Backend: store.SecretService})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"personal", "work"} {
		if err := s.Put(store.Token{Name: name, Secret: client.NewSecret(lockedCanary), Meta: store.Meta{Hosts: []string{name + ".example.com"}}}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	dir, err := os.MkdirTemp("", "kfl")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, k := range []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} {
		t.Setenv(k, "")
	}
	o := agentOptions(dir, store.SecretService)
	t.Setenv("KEYFOB_SOCKET", o.Socket)

	stop := startAgent(t, o)
	waitStatus(t, o.Socket, "2 tokens", func(s *client.Status) bool { return !s.Locked && s.Tokens == 2 })
	stop()

	lockLogin(t)
	stop = startAgent(t, o)
	defer func() { stop() }()
	st := waitStatus(t, o.Socket, "an answer", func(*client.Status) bool { return true })
	if !st.Locked || !st.KeychainLocked || st.LockError != "the login keyring is locked" || st.Tokens != 0 {
		t.Fatalf("status with the login keyring locked = %+v, want locked: the login keyring is locked", st)
	}
	get := &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "personal.example.com"}}
	r, err := client.Call(o.Socket, get)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != client.CodeLocked || ce.Message != "locked: the login keyring is locked" || (r != nil && !r.Secret.IsZero()) {
		t.Fatalf("get while the keyring is locked = %v, want code locked, nothing handed out", err)
	}
	var stdout, stderr bytes.Buffer
	client.GitHelper([]string{"get"}, strings.NewReader("protocol=https\nhost=personal.example.com\n\n"), &stdout, &stderr)
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "keyfob: warning: locked: the login keyring is locked") || strings.Contains(stderr.String(), "keyfob add") {
		t.Errorf("helper while the keyring is locked: stdout %q, stderr %q; want nothing, and the lock named", stdout.String(), stderr.String())
	}
	var saidLocked bool
	for _, f := range doctor.Run(doctor.Options{Socket: o.Socket, ConfigPath: o.ConfigPath, UnitDir: dir}) {
		if strings.Contains(f.Message, "is locked: the login keyring is locked") {
			saidLocked = true
		}
		if strings.Contains(f.Message+f.Hint, "keyfob add") || strings.Contains(f.Message, "no tokens") {
			t.Errorf("doctor with the keyring locked says %q (hint %q), want no advice to add tokens", f.Message, f.Hint)
		}
	}
	if !saidLocked {
		t.Error("doctor does not say the login keyring is locked")
	}

	unlockLogin(t)
	waitStatus(t, o.Socket, "unlocked with 2 tokens, without a restart", func(s *client.Status) bool { return !s.Locked && s.Tokens == 2 })
	r, err = client.Call(o.Socket, get)
	if err != nil || r.Code != "" || !bytes.Equal(r.Secret.Bytes(), []byte(lockedCanary)) {
		t.Fatalf("get after the keyring unlocked = %q %q, %v; want the token", r.Code, r.Error, err)
	}
	r.Secret.Wipe()
	stop()
	stop = func() {}
	b, _ := os.ReadFile(o.AuditPath)
	if bytes.Contains(b, []byte("canary")) {
		t.Error("the audit log holds the secret")
	}
}

// agentOptions runs an agent of backend with its files in dir and no
// GitHub API (a closed port).
func agentOptions(dir, backend string) daemon.Options {
	return daemon.Options{
		Backend:    backend,
		Socket:     filepath.Join(dir, "run", "agent.sock"),
		AuditPath:  filepath.Join(dir, "state", "audit.log"),
		ConfigPath: filepath.Join(dir, "config.toml"),
		StateDir:   filepath.Join(dir, "state"),
		GitHubAPI:  "http://127.0.0.1:1",
	}
}
