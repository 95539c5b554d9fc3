package store_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/doctor"
	"github.com/keyfob/keyfob/daemon/store"
)

// presetTool caches a passphrase in gpg-agent, as a login (or a user at
// pinentry) would.
const presetTool = "/usr/lib/gnupg/gpg-preset-passphrase"

// gpgEnv is a throwaway GnuPG home with a passphrase-protected key, a
// gpg-agent that may be given passphrases (allow-preset-passphrase) and
// whose pinentry always fails, as where no pinentry can ask; and a pass
// store encrypted to that key.
type gpgEnv struct {
	home, store, pinLog, pass string
	grip                      string // the encryption subkey's keygrip
}

func newGPGEnv(t *testing.T, dir string) *gpgEnv {
	t.Helper()
	for _, tool := range []string{"pass", "gpg", "gpg-connect-agent", "gpgconf", presetTool} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (packages pass, gnupg): run make deps", tool)
		}
	}
	g := &gpgEnv{home: filepath.Join(dir, "g"), store: filepath.Join(dir, "ps"), pinLog: filepath.Join(dir, "pinentry.log"), pass: "keyfob-test-gpg"}
	if err := os.Mkdir(g.home, 0o700); err != nil {
		t.Fatal(err)
	}
	pin := filepath.Join(dir, "pinentry")
	if err := os.WriteFile(pin, []byte("#!/bin/sh\necho asked >> '"+g.pinLog+"'\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "allow-preset-passphrase\npinentry-program " + pin + "\n"
	if err := os.WriteFile(filepath.Join(g.home, "gpg-agent.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GNUPGHOME", g.home)
	t.Setenv("PASSWORD_STORE_DIR", g.store)
	t.Setenv("GPG_TTY", "")
	t.Cleanup(func() { g.kill(t) })
	g.run(t, nil, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", g.pass, "--quick-gen-key", "keyfob-locked@localhost", "default", "default", "never")
	g.run(t, nil, "pass", "init", "keyfob-locked@localhost")
	out := g.run(t, nil, "gpg", "--batch", "--with-colons", "--with-keygrip", "--list-secret-keys", "keyfob-locked@localhost")
	sub := false
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Split(l, ":")
		switch {
		case f[0] == "ssb":
			sub = true
		case f[0] == "grp" && sub && len(f) > 9:
			g.grip = f[9]
		}
	}
	if g.grip == "" {
		t.Fatalf("no encryption subkey in\n%s", out)
	}
	return g
}

func (g *gpgEnv) run(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

// unlock gives gpg-agent the subkey's passphrase, and forget drops every
// cached passphrase (gpg-agent reloads).
func (g *gpgEnv) unlock(t *testing.T) {
	g.run(t, []byte(g.pass+"\n"), presetTool, "--preset", g.grip)
}
func (g *gpgEnv) forget(t *testing.T) { g.run(t, nil, "gpg-connect-agent", "reloadagent", "/bye") }

// asked reports whether pinentry was started.
func (g *gpgEnv) asked() bool {
	_, err := os.Stat(g.pinLog)
	return err == nil
}

// kill stops the test's gpg-agent and waits until it is gone.
func (g *gpgEnv) kill(t *testing.T) {
	out, _ := exec.Command("gpg-connect-agent", "--no-autostart", "getinfo pid", "/bye").Output()
	_ = exec.Command("gpgconf", "--kill", "all").Run()
	for _, l := range strings.Split(string(out), "\n") {
		pid, err := strconv.Atoi(strings.TrimPrefix(l, "D "))
		if !strings.HasPrefix(l, "D ") || err != nil {
			continue
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if err != nil || bytes.Contains(b, []byte(") Z ")) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("gpg-agent pid %d still running after gpgconf --kill", pid)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// The pass store's gpg key locked (its passphrase not in gpg-agent, and no
// pinentry can ask) is not an empty keychain: an agent started then says
// "locked: the pass store's gpg key is locked" in status, doctor and on
// the helper's stderr, hands out nothing and never suggests keyfob add; it
// asks once (pinentry is started), and once gpg-agent holds the
// passphrase, the same agent loads the tokens and serves them.
func TestPassLockedIsNotEmpty(t *testing.T) {
	dir, err := os.MkdirTemp("", "kfp")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	g := newGPGEnv(t, dir)
	for _, k := range []string{"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} {
		t.Setenv(k, "")
	}
	o := agentOptions(dir, store.Pass)
	o.PassDir = g.store
	t.Setenv("KEYFOB_SOCKET", o.Socket)

	// Unlocked: the tokens go in through the agent.
	g.unlock(t)
	stop := startAgent(t, o)
	waitStatus(t, o.Socket, "unlocked", func(s *client.Status) bool { return !s.Locked })
	for _, name := range []string{"personal", "work"} {
		r, err := client.Call(o.Socket, &client.Request{Op: client.OpAdd, Name: name, Secret: client.NewSecret(lockedCanary),
			Meta: &client.TokenMeta{Hosts: []string{name + ".example.com"}, NoVerify: true}})
		if err != nil || r.Code != "" {
			t.Fatalf("add %s = %+v, %v", name, r, err)
		}
	}
	waitStatus(t, o.Socket, "2 tokens", func(s *client.Status) bool { return !s.Locked && s.Tokens == 2 })
	stop()

	g.forget(t)
	if g.asked() {
		t.Fatal("pinentry ran before the key was locked")
	}
	stop = startAgent(t, o)
	defer func() { stop() }()
	st := waitStatus(t, o.Socket, "an answer", func(*client.Status) bool { return true })
	const words = "the pass store's gpg key is locked"
	if !st.Locked || !st.KeychainLocked || st.LockError != words || st.Tokens != 0 || !strings.Contains(st.LockHint, "gpg-agent") {
		t.Fatalf("status with the gpg key locked = %+v, want locked: %s", st, words)
	}
	if !g.asked() {
		t.Error("the agent did not ask for the passphrase (pinentry never ran)")
	}
	get := &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "personal.example.com"}}
	r, err := client.Call(o.Socket, get)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != client.CodeLocked || ce.Message != "locked: "+words || (r != nil && !r.Secret.IsZero()) {
		t.Fatalf("get while the gpg key is locked = %v, want code locked, nothing handed out", err)
	}
	var stdout, stderr bytes.Buffer
	client.GitHelper([]string{"get"}, strings.NewReader("protocol=https\nhost=personal.example.com\n\n"), &stdout, &stderr)
	if stdout.Len() != 0 || !strings.Contains(stderr.String(), "keyfob: warning: locked: "+words) || strings.Contains(stderr.String(), "keyfob add") {
		t.Errorf("helper while the gpg key is locked: stdout %q, stderr %q; want nothing, and the lock named", stdout.String(), stderr.String())
	}
	var saidLocked bool
	for _, f := range doctor.Run(doctor.Options{Socket: o.Socket, ConfigPath: o.ConfigPath, UnitDir: dir}) {
		if strings.Contains(f.Message, "is locked: "+words) {
			saidLocked = true
		}
		if strings.Contains(f.Message+f.Hint, "keyfob add") || strings.Contains(f.Message, "no tokens") {
			t.Errorf("doctor with the gpg key locked says %q (hint %q), want no advice to add tokens", f.Message, f.Hint)
		}
	}
	if !saidLocked {
		t.Error("doctor does not say the gpg key is locked")
	}

	g.unlock(t)
	waitStatus(t, o.Socket, "unlocked with 2 tokens, without a restart", func(s *client.Status) bool { return !s.Locked && s.Tokens == 2 })
	r, err = client.Call(o.Socket, get)
	if err != nil || r.Code != "" || !bytes.Equal(r.Secret.Bytes(), []byte(lockedCanary)) {
		t.Fatalf("get after the gpg key unlocked = %+v, %v; want the token", r, err)
	}
	r.Secret.Wipe()
	stop()
	stop = func() {}
	b, _ := os.ReadFile(o.AuditPath)
	if bytes.Contains(b, []byte("canary")) {
		t.Error("the audit log holds the secret")
	}
}
