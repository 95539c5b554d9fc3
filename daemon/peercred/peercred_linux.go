package peercred

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

func get(fd uintptr) (Cred, error) {
	u, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return Cred{}, os.NewSyscallError("getsockopt SO_PEERCRED", err)
	}
	return Cred{UID: int(u.Uid), GID: int(u.Gid), PID: int(u.Pid)}, nil
}

// exe reads /proc/PID/exe. EACCES (another uid, or a non-dumpable process)
// and a pid that has gone both give "": the exe is a hint, not a boundary.
func exe(pid int) string {
	if pid <= 0 {
		return ""
	}
	p, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return ""
	}
	return p
}
