//go:build linux && !(amd64 || arm64)

package peercred

import (
	"os"

	"golang.org/x/sys/unix"
)

func get(fd uintptr) (Cred, error) {
	u, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return Cred{}, os.NewSyscallError("getsockopt SO_PEERCRED", err)
	}
	return Cred{UID: int(u.Uid), GID: int(u.Gid), PID: int(u.Pid)}, nil
}
