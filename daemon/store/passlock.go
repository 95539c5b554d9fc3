package store

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// The pass backend's lock is its gpg key's: the store's items are
// encrypted to a key whose passphrase gpg-agent holds for a while after
// it was given (default-cache-ttl), and forgets. keyring runs pass show
// for each item, which then asks pinentry, and waits without end; so
// before keyfob reads, it asks gpg-agent whether the key is usable.

var (
	errPassNotInitialised = errors.New("the pass store is not initialised")
	errPassNoSecretKey    = errors.New("no secret key for the pass store")
	errPassProgram        = errors.New("gpg is not installed")
)

// gpgTimeout bounds each gpg command keyfob runs to look at the key. None
// of them asks the user anything.
const gpgTimeout = 10 * time.Second

// passAskTimeout bounds the decrypt that asks for the passphrase: pinentry
// waits for the user at most this long, and is then killed with it.
const passAskTimeout = 2 * time.Minute

// passDir is the store pass uses for opts, as keyring finds it.
func passDir(opts Options) (string, error) {
	if opts.PassDir != "" {
		return opts.PassDir, nil
	}
	if d, ok := os.LookupEnv("PASSWORD_STORE_DIR"); ok {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".password-store"), nil
}

// passItem returns one keyfob item of the store (its .gpg file), "" when
// there is none yet. The store must be initialised (have a .gpg-id).
func passItem(opts Options) (string, error) {
	dir, err := passDir(opts)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, ".gpg-id")); errors.Is(err, fs.ErrNotExist) {
		return "", kindErr(errPassNotInitialised, "the pass store %s is not initialised (it has no .gpg-id)", dir)
	} else if err != nil {
		return "", err
	}
	items, err := filepath.Glob(filepath.Join(dir, "keyfob", "keyfob.*.gpg"))
	if err != nil || len(items) == 0 {
		return "", err
	}
	slices.Sort(items)
	return items[0], nil
}

// gpg runs gpg (or gpg-connect-agent) with args, bounded by gpgTimeout,
// and returns its standard output. Its error carries gpg's last line on
// stderr.
func gpg(name string, args ...string) ([]byte, error) {
	if _, err := exec.LookPath(name); err != nil {
		return nil, kindErr(errPassProgram, "%s is not installed", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), gpgTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		last := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		if last == "" {
			return out, err
		}
		return out, errors.New(last)
	}
	return out, nil
}

// passKeygrips returns the keygrips of the secret keys here that can
// decrypt item, and the key ids it is encrypted to.
func passKeygrips(item string) (grips, ids []string, err error) {
	// --list-only names the recipients and decrypts nothing.
	out, err := gpg("gpg", "--batch", "--no-tty", "--list-only", "--status-fd", "1", "--decrypt", item)
	if err != nil && len(out) == 0 {
		return nil, nil, err
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "[GNUPG:]" && f[1] == "ENC_TO" {
			ids = append(ids, strings.ToUpper(f[2]))
		}
	}
	for _, id := range ids {
		out, err := gpg("gpg", "--batch", "--no-tty", "--with-colons", "--with-keygrip", "--list-secret-keys", "0x"+id)
		if err != nil {
			continue // no secret key for this recipient
		}
		// sec/ssb records name a key id (field 5); the grp record after
		// each names its keygrip (field 10).
		match := false
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Split(sc.Text(), ":")
			switch {
			case len(f) > 4 && (f[0] == "sec" || f[0] == "ssb"):
				match = strings.HasSuffix(strings.ToUpper(f[4]), id)
			case len(f) > 9 && f[0] == "grp" && match:
				grips = append(grips, f[9])
				match = false
			}
		}
	}
	return grips, ids, nil
}

// keyUsable reports whether gpg-agent can use the key with keygrip grip
// without asking: its passphrase is cached, it has none, or it lives on a
// card (whose PIN keyfob cannot see).
func keyUsable(grip string) (bool, error) {
	out, err := gpg("gpg-connect-agent", "--no-autostart", "KEYINFO "+grip, "/bye")
	if err != nil {
		// No agent running: nothing is cached.
		return false, nil
	}
	for _, l := range strings.Split(string(out), "\n") {
		// S KEYINFO <grip> <type> <serialno> <idstr> <cached> <protection> …
		f := strings.Fields(l)
		if len(f) >= 8 && f[0] == "S" && f[1] == "KEYINFO" && strings.EqualFold(f[2], grip) {
			return f[6] == "1" || f[7] == "C" || f[3] == "T", nil
		}
	}
	return false, nil
}

// passLocked reports whether the pass store's gpg key is locked: the store
// has items, there is a secret key for them here, and gpg-agent can use
// none of those keys without asking for a passphrase. A store without
// items is not locked (pass encrypts new ones with the public key). A
// store whose items no secret key here decrypts is an error, not a lock.
func passLocked(opts Options) (bool, error) {
	item, err := passItem(opts)
	if err != nil || item == "" {
		return false, err
	}
	grips, ids, err := passKeygrips(item)
	if err != nil {
		return false, err
	}
	if len(grips) == 0 {
		return false, kindErr(errPassNoSecretKey, "no secret key here for the gpg key %s that the pass store is encrypted to", strings.Join(ids, ", "))
	}
	for _, g := range grips {
		ok, err := keyUsable(g)
		if err != nil || ok {
			return false, err
		}
	}
	return true, nil
}

// passAsking is set while a decrypt asks for the passphrase.
var passAsking atomic.Bool

// passAskUnlock asks for the pass key's passphrase: one decrypt of one
// item, to /dev/null, which gpg-agent answers by showing pinentry on a
// desktop (and fails at once where no pinentry can ask). It does not wait
// for the user: the decrypt runs on, at most passAskTimeout, and the agent
// notices the unlock by polling. At most one asks at a time.
func passAskUnlock(opts Options) error {
	item, err := passItem(opts)
	if err != nil || item == "" {
		return err
	}
	if !passAsking.CompareAndSwap(false, true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), passAskTimeout)
	cmd := exec.CommandContext(ctx, "gpg", "--batch", "--quiet", "--yes", "--output", os.DevNull, "--decrypt", item)
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		passAsking.Store(false)
		return kindErr(errPassProgram, "run gpg: %v", err)
	}
	go func() {
		defer passAsking.Store(false)
		defer cancel()
		_ = cmd.Wait()
	}()
	return nil
}
