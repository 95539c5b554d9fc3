//go:build unix && !linux

package pump

import "syscall"

// socket makes the socket; no SOCK_CLOEXEC here, but the helper runs no
// other program while it is open.
func socket() (int, error) {
	return syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
}
