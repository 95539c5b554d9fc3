// Package listen opens the agent's Unix socket: in a private directory it
// checks, or handed over by systemd socket activation.
package listen

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/keyfob/keyfob/client"
)

// ErrRunning means another agent answers on the socket.
var ErrRunning = errors.New("keyfob agent already running")

// CheckDir refuses a socket directory that is not a real directory owned by
// us with mode 0700 (no group or other access): client.CheckPrivateDir,
// worded for the agent that is about to listen there.
func CheckDir(dir string) error {
	err := client.CheckPrivateDir(dir)
	var de *client.DirError
	if !errors.As(err, &de) {
		if err != nil {
			return fmt.Errorf("socket directory %s: %w", dir, err)
		}
		return nil
	}
	switch de.Problem {
	case client.NotADirectory:
		return fmt.Errorf("socket directory %s is not a directory (a symlink?): remove it and retry", dir)
	case client.OwnerUnreadable:
		if de.Mode&0o077 == 0 {
			return nil // no owner to read here: the mode decides
		}
	case client.OtherOwner:
		return fmt.Errorf("socket directory %s is owned by uid %d, not %d: remove it (or set KEYFOB_SOCKET) and retry", dir, de.UID, os.Getuid())
	}
	return fmt.Errorf("socket directory %s is accessible by group or others (mode %04o): run chmod 700 %s", dir, de.Mode, dir)
}

// CheckParent refuses a directory in which another uid could replace or
// plant what keyfob creates there: one owned by a uid other than ours or
// root, or one that group or others can write without the sticky bit
// (/tmp has it, so others cannot rename or remove our entries).
func CheckParent(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() && st.Uid != 0 {
		return fmt.Errorf("directory %s is owned by uid %d, not you (uid %d) or root, so that uid can replace what keyfob puts in it: use a directory of your own", dir, st.Uid, os.Getuid())
	}
	if perm := fi.Mode(); perm.Perm()&0o022 != 0 && perm&os.ModeSticky == 0 {
		return fmt.Errorf("directory %s can be written by group or others and has no sticky bit (mode %04o), so they can replace what keyfob puts in it: run chmod go-w %s (or chmod +t %s)", dir, perm.Perm(), dir, dir)
	}
	return nil
}

// Options tune Unix; the zero value is what the agent uses.
type Options struct {
	// SkipDirCheck uses the socket's directory as it is, as long as
	// CheckParent accepts it, instead of creating and checking a
	// private one (grant sockets at a path the user chose).
	SkipDirCheck bool
	// Mode is the socket's mode; 0 means 0600.
	Mode os.FileMode
}

// Unix listens at path. It checks the runtime directory that holds the
// socket's directory (CheckParent), creates the socket's directory 0700 in
// one call and checks it (CheckDir), replaces a stale socket, and refuses
// when an agent already answers. The socket is created with its mode by
// bind itself (bindMode), never changed afterwards.
func Unix(path string, o Options) (*net.UnixListener, error) {
	dir := filepath.Dir(path)
	if o.SkipDirCheck {
		if err := CheckParent(dir); err != nil {
			return nil, fmt.Errorf("socket %s: %w", path, err)
		}
	} else {
		if err := CheckParent(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("runtime %w", err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create socket directory: %w", err)
		}
		if err := CheckDir(dir); err != nil {
			return nil, err
		}
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	mode := o.Mode
	if mode == 0 {
		mode = 0o600
	}
	l, err := bindMode(path, mode.Perm())
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(true)
	return l, nil
}

func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket: move it away and retry", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%w on %s", ErrRunning, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}
