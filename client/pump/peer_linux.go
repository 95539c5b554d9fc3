package pump

import (
	"os"
	"syscall"
)

// peerUID reads the uid of the process serving the connected socket fd,
// as the client's user namespace sees it.
func peerUID(fd int) (int, error) {
	u, err := syscall.GetsockoptUcred(fd, syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	if err != nil {
		return -1, os.NewSyscallError("getsockopt SO_PEERCRED", err)
	}
	return int(u.Uid), nil
}
