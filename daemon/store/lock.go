package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A keychain whose lock keyfob can see has one lock seam here: a way to
// tell whether it is locked without asking the user, and a way to ask it
// to unlock that does not wait for the user. Open checks the lock before
// anything reads an item (a locked keychain read through keyring would
// prompt without end, or read as empty); the agent polls Locked until the
// keychain unlocks, then loads it.

// ErrKeychainLocked means the keychain itself is locked (the Secret
// Service login collection, the pass store's gpg key, the macOS login
// keychain): its items cannot be read until it unlocks. It is not an
// empty keychain. errors.Is finds it in every backend's LockedError.
var ErrKeychainLocked = errors.New("the keychain is locked")

// LockedError is a locked keychain, in its backend's words.
type LockedError struct{ Backend string }

func (e *LockedError) Error() string { return seams[e.Backend].words }

// Is makes a LockedError ErrKeychainLocked.
func (e *LockedError) Is(target error) bool { return target == ErrKeychainLocked }

// lockSeam is one backend's lock.
type lockSeam struct {
	// words say the keychain is locked (status, doctor, the helper).
	words string
	// fix says how to unlock it.
	fix string
	// locked reports whether the keychain is locked, asking nobody.
	locked func(Options) (bool, error)
	// ask asks the keychain to unlock (the desktop's prompt) and does
	// not wait for the answer; nil when locked itself asks.
	ask func(Options) error
}

// seams are the backends with a lock keyfob can see. keyctl has none,
// and the file backend's lock is keyfob's own (keyfob unlock).
var seams = map[string]lockSeam{
	SecretService: {
		words:  "the login keyring is locked",
		fix:    "unlock the login keyring (log in, or unlock it in your keyring app); keyfob loads the tokens as soon as it is unlocked",
		locked: func(Options) (bool, error) { return collectionLocked() },
		ask:    func(Options) error { return requestUnlock() },
	},
	Pass: {
		words:  "the pass store's gpg key is locked",
		fix:    "give gpg-agent the key's passphrase (pass show keyfob/any-item in a terminal, or answer the pinentry); keyfob loads the tokens as soon as gpg-agent holds it",
		locked: passLocked,
		ask:    passAskUnlock,
	},
	Keychain: {
		words:  "the macOS login keychain is locked",
		fix:    "unlock the login keychain (log in, or security unlock-keychain login.keychain-db); keyfob loads the tokens as soon as it is unlocked",
		locked: keychainLocked,
	},
}

// LockedWords is what a locked keychain of backend says ("" for a backend
// without a lock keyfob can see). The agent's status compares its lock
// reason with it.
func LockedWords(backend string) string { return seams[backend].words }

// LockedFix is how to unlock backend's keychain ("" as LockedWords).
func LockedFix(backend string) string { return seams[backend].fix }

// KeychainLocked reports whether the keychain of the backend opts names is
// locked, without asking it to unlock. The backends without a lock keyfob
// can see report false.
func KeychainLocked(opts Options) (bool, error) {
	seam, ok := seams[opts.Backend]
	if !ok {
		return false, nil
	}
	return seam.locked(opts)
}

// checkUnlocked makes sure the keychain is unlocked before keyring reads
// it. A locked keychain is asked to unlock once, and is a LockedError
// until it is.
func checkUnlocked(opts Options) error {
	seam, ok := seams[opts.Backend]
	if !ok {
		return nil
	}
	locked, err := seam.locked(opts)
	if err != nil || !locked {
		return err
	}
	if seam.ask != nil {
		if err := seam.ask(opts); err != nil {
			return err
		}
		if locked, err = seam.locked(opts); err != nil || !locked {
			return err
		}
	}
	return &LockedError{Backend: opts.Backend}
}

// MaxWords bounds the backend's words that Describe passes on.
const MaxWords = 200

// Describe says why the keychain of backend could not be opened or read
// with err: the backend's own words, cleaned (control characters become
// spaces, at most MaxWords bytes), and one line saying how to fix it.
// Neither names a secret: keyring's and the backends' errors carry no item
// data, and the one kind that could (a JSON decoder's, which quotes the
// data it choked on) is replaced by fixed words.
func Describe(backend string, err error) (words, fix string) {
	if err == nil {
		return "", ""
	}
	words = Clean(err.Error(), MaxWords)
	if decodeError(err) {
		words = "an item in the " + backend + " keychain does not decode"
	}
	return words, fixFor(backend, err)
}

// Clean makes s safe to show in one line: control characters and invalid
// UTF-8 become spaces, runs of spaces one, and it is cut to at most n
// bytes on a character boundary.
func Clean(s string, n int) string {
	var b strings.Builder
	space := false
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		if r == utf8.RuneError && size == 1 || unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' ||
			unicode.Is(unicode.Cf, r) {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if b.Len()+size > n {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// fixFor is the one line that says how to fix backend's keychain after
// err. Its words are keyfob's own and name no path.
func fixFor(backend string, err error) string {
	switch {
	case errors.Is(err, ErrUnavailable) && backend == Pass:
		return "install pass and gnupg (apt install pass), then restart the agent"
	case errors.Is(err, ErrUnavailable):
		return "this keyfob has no " + backend + " backend on this machine: choose another with --backend or KEYFOB_BACKEND, then restart the agent"
	case errors.Is(err, errPassNotInitialised):
		return "create the store (pass init YOUR-GPG-KEY-ID, with PASSWORD_STORE_DIR if keyfob uses another), then keyfob unlock"
	case errors.Is(err, errPassNoSecretKey):
		return "import the secret key the store is encrypted to (gpg --import), or re-encrypt the store (pass init YOUR-GPG-KEY-ID), then keyfob unlock"
	case errors.Is(err, errPassProgram):
		return "install pass and gnupg (apt install pass), then keyfob unlock"
	case errors.Is(err, errKeychainNotAvailable):
		return "run keyfob serve inside your login session (a LaunchAgent, not a LaunchDaemon or a bare ssh session), then keyfob unlock"
	}
	switch backend {
	case SecretService:
		return "start your desktop's keyring (gnome-keyring-daemon or KeePassXC's Secret Service) in this session, or choose another backend with KEYFOB_BACKEND; then keyfob unlock"
	case File:
		if errors.Is(err, fs.ErrPermission) {
			return "make the keyring directory and its files yours and readable (chmod 700 and 600), then keyfob unlock"
		}
	case KeyCtl:
		return "check the kernel keyring (keyctl show @u), then keyfob unlock"
	}
	return "keyfob doctor checks the backend; fix it, then keyfob unlock"
}

// decodeError reports whether err is a JSON decoder's, whose text quotes
// the data it choked on.
func decodeError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}

// describeErr wraps what a backend said about its own state in keyfob's
// words, so that fixFor can name the fix.
type describeErr struct {
	kind error
	msg  string
}

func (e *describeErr) Error() string        { return e.msg }
func (e *describeErr) Is(target error) bool { return target == e.kind }

func kindErr(kind error, format string, args ...any) error {
	return &describeErr{kind: kind, msg: fmt.Sprintf(format, args...)}
}
