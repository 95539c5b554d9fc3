//go:build !linux

package passphrase

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/keyfob/keyfob/client"
)

// reexecWithout does nothing here: without /proc there is no kernel copy
// of the environment for another process to read, and the variable only
// leaves the Go environment.
func reexecWithout(string) error { return nil }

func readPassFD(v string) (client.Secret, error) {
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return client.Secret{}, fmt.Errorf("%s=%q: want a descriptor number, 3 or more", passFDEnv, v)
	}
	f := os.NewFile(uintptr(fd), "passphrase")
	if f == nil {
		return client.Secret{}, errors.New(passFDEnv + ": not an open descriptor")
	}
	defer f.Close()
	return readAllPass(f)
}
