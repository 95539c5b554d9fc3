package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/keyfob/keyfob/daemon/store"
)

// ErrKeychainBusy means another agent serves the same keychain: two agents
// on one keychain would each serve their own copy of the tokens, and one
// of them stale after a rotate through the other.
var ErrKeychainBusy = errors.New("another agent serves this keychain")

// busyError is ErrKeychainBusy naming the agent that holds the lock. It is
// also ErrRunning: an agent is running, on whatever socket.
type busyError struct{ backend, holder string }

func (e *busyError) Error() string {
	return fmt.Sprintf("%s (%s backend): %s", ErrKeychainBusy, e.backend, e.holder)
}

func (e *busyError) Is(target error) bool { return target == ErrKeychainBusy || target == ErrRunning }

// keychainLock is an flock on a file in the state directory, one file per
// keychain (backend and store location). The kernel drops it when the
// process ends, however it ends, so a crash leaves no stale lock.
type keychainLock struct{ f *os.File }

// keychainID names the keychain an agent serves: the backend and, for the
// backends whose store is a directory, that directory.
func keychainID(o *Options) string {
	loc := ""
	switch o.Backend {
	case store.File:
		loc = o.KeyringDir
	case store.Pass:
		loc = o.PassDir
		if loc == "" {
			home, _ := os.UserHomeDir()
			loc = filepath.Join(home, ".password-store")
		}
	}
	if loc != "" {
		if abs, err := filepath.Abs(loc); err == nil {
			loc = abs
		}
	}
	return o.Backend + "\x00" + loc
}

// lockKeychain takes the keychain's lock for this process, recording its
// pid and socket in the file for the agent that comes second. A held lock
// is ErrKeychainBusy, naming the agent that holds it.
func lockKeychain(o *Options, socket string) (*keychainLock, error) {
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("lock the keychain: %w", err)
	}
	sum := sha256.Sum256([]byte(keychainID(o)))
	path := filepath.Join(o.StateDir, "agent-"+o.Backend+"-"+hex.EncodeToString(sum[:6])+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the keychain: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &busyError{backend: o.Backend, holder: holder}
		}
		return nil, fmt.Errorf("lock the keychain %s: %w", path, err)
	}
	// Who holds it, for the next agent's message. The lock is the flock;
	// a record that cannot be written only makes that message vaguer.
	rec := "pid=" + strconv.Itoa(os.Getpid()) + "\nsocket=" + socket + "\n"
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(rec), 0)
	}
	return &keychainLock{f: f}, nil
}

// readHolder says which agent holds the lock, from what it wrote there.
func readHolder(f *os.File) string {
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, 0)
	var pid, socket string
	for line := range strings.SplitSeq(string(b[:n]), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "pid":
			pid = v
		case "socket":
			socket = v
		}
	}
	if pid == "" {
		return "an agent is starting"
	}
	return "pid " + pid + ", socket " + socket
}

// release drops the lock. The file stays: removing it would let a third
// agent lock a new file while a second still waits on the old one.
func (l *keychainLock) release() { l.f.Close() }
