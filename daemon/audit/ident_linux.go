//go:build linux && (amd64 || arm64)

package audit

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On a local file system the two system calls of each line (the stat of
// the log's name and the write) are raw: neither waits long there, and one
// the kernel preempts must not make the runtime hand the agent's one P to
// another thread (see daemon/server's fd_linux.go). On any other (NFS, a
// FUSE mount) they are the runtime's, which can wait without stopping the
// rest of the agent.

// localFS reports whether f is on a file system whose system calls do not
// wait on a network or another process.
func localFS(f *os.File) bool {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return false
	}
	switch uint32(st.Type) {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC, unix.TMPFS_MAGIC,
		unix.OVERLAYFS_SUPER_MAGIC, unix.F2FS_SUPER_MAGIC:
		return true
	}
	return false
}

// statName stats the file named name (NUL-terminated): its identity and
// size.
func statName(name []byte, raw bool) (ident, int64, error) {
	var st syscall.Stat_t
	var e syscall.Errno
	if raw {
		_, _, e = syscall.RawSyscall6(unix.SYS_NEWFSTATAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&name[0])),
			uintptr(unsafe.Pointer(&st)), 0, 0, 0)
	} else {
		_, _, e = syscall.Syscall6(unix.SYS_NEWFSTATAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&name[0])),
			uintptr(unsafe.Pointer(&st)), 0, 0, 0)
	}
	if e != 0 {
		return ident{}, 0, &os.PathError{Op: "stat", Path: string(name[:len(name)-1]), Err: e}
	}
	return ident{dev: st.Dev, ino: st.Ino}, st.Size, nil
}

// writeFile writes all of b to f.
func writeFile(f *os.File, b []byte, raw bool) error {
	if !raw {
		_, err := f.Write(b)
		return err
	}
	fd := f.Fd()
	for len(b) > 0 {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case 0:
			b = b[n:]
		case syscall.EINTR:
		default:
			return &os.PathError{Op: "write", Path: f.Name(), Err: e}
		}
	}
	return nil
}

// atFDCWD is AT_FDCWD: the log's name is absolute, or the process's own.
var atFDCWD = unix.AT_FDCWD
