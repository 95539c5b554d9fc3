package store

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/keyring"
)

// The macOS Keychain backend is keyring's, over go-keychain (darwin, cgo).
// go-keychain's errors are its type Error, an OSStatus, whose text is
// "<message> (<code>)", for example "User interaction is not allowed.
// (-25308)"; keyring passes them on as they are, or inside its own text
// with %v. keyfob tells them apart by that code, in code that builds on
// every system, so that the classifier is tested where no Mac is.

// The OSStatus codes of a locked keychain: the keychain cannot be read
// until the user unlocks it.
const (
	errSecInteractionNotAllowed = -25308 // locked, and no dialog may ask (ssh, a daemon)
	errSecAuthFailed            = -25293 // the unlock dialog got a wrong password
	errSecUserCanceled          = -128   // the user dismissed the unlock dialog
	errSecInteractionRequired   = -25315 // locked, and interaction is required
	errSecInDarkWake            = -25320 // the Mac is in dark wake: no dialog possible
)

// The codes of a keychain that is not there at all: not locked, and no
// unlock helps.
const (
	errSecNotAvailable      = -25291 // no keychain in this session
	errSecNoDefaultKeychain = -25307 // no default keychain
)

var errKeychainNotAvailable = errors.New("no keychain is available in this session")

// osStatusRE finds go-keychain's code at the end of an error's text.
var osStatusRE = regexp.MustCompile(`\((-?[0-9]{1,6})\)\s*$`)

// osStatus returns the OSStatus code that err (or an error it wraps)
// carries in go-keychain's words.
func osStatus(err error) (int, bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if m := osStatusRE.FindStringSubmatch(e.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n, true
		}
	}
	return 0, false
}

// keychainErr classifies an error of the keychain backend: a LockedError
// for a locked keychain, keyfob's words for one that is not there, and err
// as it is otherwise.
func keychainErr(err error) error {
	code, ok := osStatus(err)
	switch {
	case !ok:
		return err
	case code == errSecInteractionNotAllowed, code == errSecAuthFailed, code == errSecUserCanceled,
		code == errSecInteractionRequired, code == errSecInDarkWake:
		return &LockedError{Backend: Keychain}
	case code == errSecNotAvailable, code == errSecNoDefaultKeychain:
		return kindErr(errKeychainNotAvailable, "%s", strings.TrimSpace(err.Error()))
	}
	return err
}

// classify turns a backend's error into keyfob's kinds where it knows
// them: a locked macOS keychain becomes a LockedError.
func (s *Store) classify(err error) error {
	if err == nil || s.backend != Keychain {
		return err
	}
	return keychainErr(err)
}

// keychainTrial bounds and serialises the trial read that tells whether
// the macOS keychain is locked: where a dialog may ask, a read of a
// locked keychain shows the unlock dialog and waits for the user, so at
// most one read runs, and the poll does not wait for it. After the user
// dismissed the dialog (or typed a wrong password), no read asks again
// for keychainRetry: the poll would otherwise show the dialog again and
// again.
var keychainTrial struct {
	sync.Mutex
	running   bool
	dismissed time.Time
	// read is the trial read; tests replace it.
	read func(Options) error
}

// keychainTrialWait is how long the poll waits for a trial read, and
// keychainRetry how long a dismissed dialog keeps the next one back.
var (
	keychainTrialWait = 5 * time.Second
	keychainRetry     = 10 * time.Minute
)

func init() { keychainTrial.read = keychainRead }

// keychainRead reads one keyfob item of the keychain (none: not locked).
func keychainRead(opts Options) error {
	kr, err := keyring.Open(keyringConfig(opts))
	if err != nil {
		return err
	}
	keys, err := kr.Keys()
	if err != nil {
		return err
	}
	for _, k := range keys {
		if strings.HasPrefix(k, keyPrefix) {
			it, err := kr.Get(k)
			clear(it.Data)
			return err
		}
	}
	return nil
}

// keychainLocked reports whether the macOS keychain is locked, by a
// bounded trial read; a read still waiting for the user is locked.
func keychainLocked(opts Options) (bool, error) {
	t := &keychainTrial
	t.Lock()
	if t.running || !t.dismissed.IsZero() && time.Since(t.dismissed) < keychainRetry {
		t.Unlock()
		return true, nil
	}
	t.running = true
	read := t.read
	t.Unlock()
	done := make(chan error, 1)
	go func() {
		raw := read(opts)
		code, _ := osStatus(raw)
		t.Lock()
		t.running = false
		t.dismissed = time.Time{}
		if code == errSecUserCanceled || code == errSecAuthFailed {
			t.dismissed = time.Now()
		}
		t.Unlock()
		done <- keychainErr(raw)
	}()
	select {
	case err := <-done:
		if errors.Is(err, ErrKeychainLocked) {
			return true, nil
		}
		return false, err
	case <-time.After(keychainTrialWait):
		return true, nil
	}
}
