//go:build linux && (amd64 || arm64)

package peercred

import (
	"os"
	"syscall"
	"unsafe"
)

func get(fd uintptr) (Cred, error) {
	var u syscall.Ucred
	n := uint32(unsafe.Sizeof(u))
	_, _, e := syscall.RawSyscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_SOCKET, syscall.SO_PEERCRED,
		uintptr(unsafe.Pointer(&u)), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return Cred{}, os.NewSyscallError("getsockopt SO_PEERCRED", e)
	}
	return Cred{UID: int(u.Uid), GID: int(u.Gid), PID: int(u.Pid)}, nil
}
