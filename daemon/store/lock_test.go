package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// goKeychainError is go-keychain's Error (keychain.go, darwin and cgo):
// an OSStatus whose text is the message `security error` gives and the
// code. Its Error method is go-keychain's, for the codes keyfob tells
// apart.
type goKeychainError int

func (k goKeychainError) Error() (msg string) {
	switch k {
	case -25291:
		msg = "No keychain is available. You may need to restart your computer."
	case -25293:
		msg = "The user name or passphrase you entered is not correct."
	case -25299:
		msg = "The specified item already exists in the keychain."
	case -25300:
		msg = "The specified item could not be found in the keychain."
	case -25308:
		msg = "User interaction is not allowed."
	case -25294:
		msg = "The specified keychain could not be found."
	default:
		msg = "Keychain Error."
	}
	return fmt.Sprintf("%s (%d)", msg, k)
}

// The macOS Keychain's errors, as go-keychain makes them and keyring
// passes them on (as they are, or in its own text with %v): a locked
// keychain is a LockedError, one that is not there says so with its fix,
// and the rest stay as they are.
func TestKeychainErrors(t *testing.T) {
	locked := []int{-25308, -25293, -128, -25315, -25320}
	for _, code := range locked {
		for _, err := range []error{
			goKeychainError(code),
			fmt.Errorf("list keychain keyring: %w", goKeychainError(code)),
			fmt.Errorf("Failed to query keychain: %v", goKeychainError(code)),
		} {
			got := keychainErr(err)
			if !errors.Is(got, ErrKeychainLocked) || got.Error() != "the macOS login keychain is locked" {
				t.Errorf("keychainErr(%q) = %v, want the macOS login keychain is locked", err, got)
			}
		}
	}
	for _, code := range []int{-25300, -25299, -25294} {
		err := goKeychainError(code)
		if got := keychainErr(err); got != error(err) {
			t.Errorf("keychainErr(%q) = %v, want it as it is", err, got)
		}
	}
	na := keychainErr(goKeychainError(-25291))
	if errors.Is(na, ErrKeychainLocked) || !errors.Is(na, errKeychainNotAvailable) {
		t.Errorf("keychainErr(-25291) = %v, want not available, not locked", na)
	}
	if _, fix := Describe(Keychain, na); !strings.Contains(fix, "login session") {
		t.Errorf("fix for no keychain = %q", fix)
	}
	plain := errors.New("exit status 2")
	if got := keychainErr(plain); got != plain {
		t.Errorf("keychainErr(%v) = %v", plain, got)
	}
	// Only the keychain backend's errors are classified.
	s := &Store{backend: Pass}
	if got := s.classify(goKeychainError(-25308)); errors.Is(got, ErrKeychainLocked) {
		t.Errorf("pass classify(-25308) = %v, want it as it is", got)
	}
}

// The keychain's lock check is a trial read that runs at most once at a
// time and is not waited for past keychainTrialWait (a dialog may be
// asking); after the user dismissed the dialog it does not read again for
// keychainRetry.
func TestKeychainTrial(t *testing.T) {
	saved, wait, retry := keychainTrial.read, keychainTrialWait, keychainRetry
	defer func() {
		keychainTrial.read, keychainTrialWait, keychainRetry = saved, wait, retry
		keychainTrial.dismissed = time.Time{}
	}()
	opts := Options{Backend: Keychain}
	var reads atomic.Int32
	var result atomic.Pointer[error]
	set := func(err error) { result.Store(&err) }
	// The blocking read says when it runs, and is released however the
	// test ends, so that a failure leaves no trial running for the next.
	release, started := make(chan struct{}), make(chan struct{}, 1)
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	keychainTrial.read = func(Options) error {
		reads.Add(1)
		if r := *result.Load(); r != errBlock {
			return r
		}
		started <- struct{}{}
		<-release
		return nil
	}
	check := func(what string, wantLocked bool, wantReads int32) {
		t.Helper()
		locked, err := KeychainLocked(opts)
		if err != nil || locked != wantLocked || reads.Load() != wantReads {
			t.Fatalf("%s: KeychainLocked = %v, %v after %d reads; want %v after %d", what, locked, err, reads.Load(), wantLocked, wantReads)
		}
	}
	set(goKeychainError(-25308))
	check("no dialog may ask", true, 1)
	check("no dialog may ask, again", true, 2)
	if err := checkUnlocked(opts); !errors.Is(err, ErrKeychainLocked) {
		t.Fatalf("checkUnlocked = %v, want locked", err)
	}
	reads.Store(2) // checkUnlocked read once more

	set(goKeychainError(-128))
	check("the user dismissed the dialog", true, 3)
	check("within keychainRetry of a dismissal", true, 3)
	keychainTrial.dismissed = time.Time{}

	keychainTrialWait = time.Millisecond
	set(errBlock)
	// The trial read runs in a goroutine of its own, which is not waited
	// for past keychainTrialWait: it may not have started yet.
	if locked, err := KeychainLocked(opts); err != nil || !locked {
		t.Fatalf("a dialog asks: KeychainLocked = %v, %v; want locked", locked, err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("a dialog asks: the trial read never ran")
	}
	check("while the dialog asks", true, 4)
	unblock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		keychainTrial.Lock()
		running := keychainTrial.running
		keychainTrial.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the trial read did not end")
		}
		time.Sleep(time.Millisecond)
	}
	keychainTrialWait = time.Minute
	set(nil)
	check("unlocked", false, 5)
	set(goKeychainError(-25300))
	if _, err := KeychainLocked(opts); err == nil || errors.Is(err, ErrKeychainLocked) {
		t.Errorf("KeychainLocked(item not found) = %v, want the error, not locked", err)
	}
}

var errBlock = errors.New("block")

// Describe passes the backend's words on cleaned and bounded, with a fix,
// and replaces a JSON decoder's text, which quotes item data.
func TestDescribe(t *testing.T) {
	raw := "org.freedesktop.DBus.Error.ServiceUnknown:\x1b[31m the name\r\nwas not provided\u2028" + strings.Repeat("é", 300)
	words, fix := Describe(SecretService, errors.New(raw))
	if len(words) > MaxWords || !utf8.ValidString(words) || strings.ContainsAny(words, "\x1b\r\n\u2028") ||
		!strings.HasPrefix(words, "org.freedesktop.DBus.Error.ServiceUnknown: [31m the name was not provided") {
		t.Errorf("Describe words = %q, want cleaned, at most %d bytes", words, MaxWords)
	}
	if !strings.Contains(fix, "keyring") || strings.Contains(fix, "\n") {
		t.Errorf("Describe fix = %q, want one line", fix)
	}
	var v any
	jerr := json.Unmarshal([]byte(`ghp_canary`), &v)
	if w, _ := Describe(Pass, fmt.Errorf("read x: %w", jerr)); strings.Contains(w, "'g'") || !strings.Contains(w, "does not decode") {
		t.Errorf("Describe(json error) = %q, want fixed words", w)
	}
	if w, f := Describe(File, nil); w != "" || f != "" {
		t.Errorf("Describe(nil) = %q, %q", w, f)
	}
}

// A pass store that was never initialised (no .gpg-id) is not an empty
// keychain: Open says so, and the fix is pass init.
func TestPassNotInitialised(t *testing.T) {
	if _, err := exec.LookPath("pass"); err != nil {
		t.Fatal("pass not installed: run make deps")
	}
	dir := t.TempDir()
	_, err := Open(Options{Backend: Pass, PassDir: dir})
	words, fix := Describe(Pass, err)
	if !errors.Is(err, errPassNotInitialised) || !strings.Contains(words, dir+" is not initialised") || !strings.Contains(fix, "pass init") {
		t.Errorf("Open(uninitialised pass store) = %v; described %q, fix %q", err, words, fix)
	}
}
