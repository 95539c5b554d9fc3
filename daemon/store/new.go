package store

import (
	"os"
	"strings"
)

// FileKeyringIsNew reports whether the file backend's directory holds no
// keyfob item yet, so that the first unlock creates the keyring and its
// passphrase is being chosen, not checked.
func FileKeyringIsNew(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return os.IsNotExist(err)
	}
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, "keyfob.") {
			return false
		}
	}
	return true
}
