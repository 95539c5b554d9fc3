package setup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keyfob/keyfob/contrib"
)

// File is a file for setup to write.
type File struct {
	Path string
	Data []byte
	Mode os.FileMode
	// Current says the file already holds Data.
	Current bool
}

// Units returns the systemd user units (contrib.Units, in order) for dir,
// with ExecStart naming exe, each marked Current when it is already so.
func Units(dir, exe string) ([]File, error) {
	var files []File
	for _, name := range contrib.Units {
		want, err := contrib.Unit(name, exe)
		if err != nil {
			return nil, err
		}
		f := File{Path: filepath.Join(dir, name), Data: want, Mode: 0o644}
		have, err := os.ReadFile(f.Path)
		switch {
		case err == nil:
			f.Current = bytes.Equal(have, want)
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("read %s: %w", f.Path, err)
		}
		files = append(files, f)
	}
	return files, nil
}

// Write writes the file through a temporary file and a rename, so a
// reader never sees half of it, creating its directory when needed.
func (f File) Write() error {
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.Path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(f.Data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	if err := tmp.Chmod(f.Mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return fmt.Errorf("write %s: %w", f.Path, err)
	}
	return nil
}

// ErrNotExecutable is Executable's error for a path that is not an
// executable file.
var ErrNotExecutable = errors.New("not an executable file")

// Executable returns the keyfob the units start, as an absolute path: exe,
// or this program when exe is empty. It must be an executable file.
func Executable(exe string) (string, error) {
	var err error
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find keyfob's own path: %w", err)
		}
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return "", fmt.Errorf("--exe: %w", err)
	}
	if fi, err := os.Stat(exe); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s is %w", exe, ErrNotExecutable)
	}
	return exe, nil
}
