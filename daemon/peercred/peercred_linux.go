package peercred

import (
	"strconv"
	"syscall"
	"unsafe"
)

// The system calls here are raw (the agent makes them on every
// connection, and neither waits): see daemon/server's fd_linux.go.

// exe reads /proc/PID/exe. EACCES (another uid, or a non-dumpable process)
// and a pid that has gone both give "": the exe is a hint, not a boundary.
func exe(pid int) string {
	if pid <= 0 {
		return ""
	}
	var path [32]byte
	p := append(path[:0], "/proc/"...)
	p = strconv.AppendInt(p, int64(pid), 10)
	p = append(p, "/exe\x00"...)
	var buf [4096]byte
	n, _, e := syscall.RawSyscall6(syscall.SYS_READLINKAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&p[0])),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 || int(n) >= len(buf) {
		return ""
	}
	return string(buf[:n])
}

// atFDCWD is AT_FDCWD: a relative path (none here) is the process's own.
var atFDCWD = -0x64
