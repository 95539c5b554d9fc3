//go:build !(linux && (amd64 || arm64))

package audit

import "os"

// localFS is false: here every system call is the runtime's.
func localFS(*os.File) bool { return false }

// statName stats the file named name (NUL-terminated).
func statName(name []byte, _ bool) (ident, error) {
	fi, err := os.Stat(string(name[:len(name)-1]))
	if err != nil {
		return ident{}, err
	}
	return identOf(fi), nil
}

// writeFile writes all of b to f.
func writeFile(f *os.File, b []byte, _ bool) error {
	_, err := f.Write(b)
	return err
}
