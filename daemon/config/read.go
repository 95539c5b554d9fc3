package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// MaxSize is the largest config file keyfob reads. A config is a few kB; a
// file over 1 MiB is something else, and is refused before it is parsed.
const MaxSize = 1 << 20

// Errors that FileError wraps: what the config path names is not a
// regular file (a FIFO, a device, a directory, a socket), or is larger
// than MaxSize, or another uid can change it. A symlink loop wraps
// syscall.ELOOP.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("larger than 1 MiB")
	ErrNotPrivate = errors.New("another user can change it")
)

// FileError is a config path that keyfob will not read as a config. Its
// message is one line that names the path and says what to do.
type FileError struct {
	Path string
	// Err is ErrNotRegular, ErrTooLarge or syscall.ELOOP.
	Err error
	msg string
}

func (e *FileError) Error() string { return e.msg }

func (e *FileError) Unwrap() error { return e.Err }

func notRegular(path string, m fs.FileMode) error {
	return &FileError{Path: path, Err: ErrNotRegular, msg: fmt.Sprintf(
		"config %s: %v (%s); replace it with a regular file or point KEYFOB_CONFIG at one", path, ErrNotRegular, kind(m))}
}

func tooLarge(path string) error {
	return &FileError{Path: path, Err: ErrTooLarge, msg: fmt.Sprintf(
		"config %s: %v; a config is a few kB, check that KEYFOB_CONFIG names keyfob's config", path, ErrTooLarge)}
}

func symlinkLoop(path string) error {
	return &FileError{Path: path, Err: syscall.ELOOP, msg: fmt.Sprintf(
		"config %s: a symlink loop; fix the link or point KEYFOB_CONFIG at a regular file", path)}
}

// kind names what a non-regular file is, for errors.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	}
	return "an irregular file"
}

// readFile reads the config at path, following symlinks, without ever
// blocking on what it finds there: the path must name a regular file of at
// most MaxSize bytes. The file is checked by name first, so a device is not
// even opened, and then again on the opened descriptor, which is the check
// that counts: the open is non-blocking, so a FIFO swapped in between
// cannot hang it, and nothing but a regular file is read. A missing file
// returns an error that matches fs.ErrNotExist.
func readFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, openError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, openError(path, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	if err := private(path, fi); err != nil {
		return nil, err
	}
	if fi.Size() > MaxSize {
		return nil, tooLarge(path)
	}
	// The file can grow after the fstat: the cap holds while reading.
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if len(b) > MaxSize {
		return nil, tooLarge(path)
	}
	return b, nil
}

// private refuses a config that another uid can change: the config
// decides where tokens go (routes, and the API a host's tokens are sent
// to), so it is trusted as the tokens are. The file fi (the opened one)
// must be the user's or root's and not writable by group or others, and so
// must the directory that holds its name and the one that holds the file a
// symlink leads to, unless the directory is sticky (as /tmp is: others
// cannot replace a file there that is not theirs).
func private(path string, fi fs.FileInfo) error {
	if err := privateOne(path, "config "+path, path, fi); err != nil {
		return err
	}
	dirs := []string{filepath.Dir(path)}
	if real, err := filepath.EvalSymlinks(path); err == nil && filepath.Dir(real) != dirs[0] {
		dirs = append(dirs, filepath.Dir(real))
	}
	for _, d := range dirs {
		di, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		if err := privateOne(path, "config "+path+": directory "+d, d, di); err != nil {
			return err
		}
	}
	return nil
}

// privateOne checks the file or directory fi, at name, for private; what
// begins its message.
func privateOne(path, what, name string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() && st.Uid != 0 {
		return &FileError{Path: path, Err: ErrNotPrivate, msg: fmt.Sprintf(
			"%s is owned by uid %d, not you (uid %d) or root, and the config decides where tokens are sent; use a config of your own", what, st.Uid, os.Getuid())}
	}
	if m := fi.Mode(); m.Perm()&0o022 != 0 && !(m.IsDir() && m&fs.ModeSticky != 0) {
		return &FileError{Path: path, Err: ErrNotPrivate, msg: fmt.Sprintf(
			"%s can be written by group or others (mode %04o), and the config decides where tokens are sent; run chmod go-w %s", what, m.Perm(), name)}
	}
	return nil
}

func openError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return err
	case errors.Is(err, syscall.ELOOP):
		return symlinkLoop(path)
	}
	return fmt.Errorf("read config: %w", err)
}
