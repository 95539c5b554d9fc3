//go:build !(linux && (amd64 || arm64))

package audit

import "os"

// localFS is false: here every system call is the runtime's.
func localFS(*os.File) bool { return false }

// statName stats the file named name (NUL-terminated): its identity and
// size.
func statName(name []byte, _ bool) (ident, int64, error) {
	fi, err := os.Stat(string(name[:len(name)-1]))
	if err != nil {
		return ident{}, 0, err
	}
	return identOf(fi), fi.Size(), nil
}

// writeFile writes all of b to f.
func writeFile(f *os.File, b []byte, _ bool) error {
	_, err := f.Write(b)
	return err
}
