//go:build !linux && !darwin

package client

import (
	"fmt"
	"runtime"
)

// peerUID fails: keyfob cannot read who serves a socket here, so it talks
// to none.
func peerUID(int) (int, error) {
	return -1, fmt.Errorf("the uid serving a socket cannot be read on %s, so keyfob talks to no agent here", runtime.GOOS)
}
