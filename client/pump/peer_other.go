//go:build !linux && !darwin

package pump

import (
	"errors"
	"runtime"
)

// peerUID fails: keyfob cannot read who serves a socket here, so it talks
// to none.
func peerUID(int) (int, error) {
	return -1, errors.New("the uid serving a socket cannot be read on " + runtime.GOOS + ", so keyfob talks to no agent here")
}
