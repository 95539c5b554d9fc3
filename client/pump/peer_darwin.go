package pump

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

// xucred is struct xucred of <sys/ucred.h>.
type xucred struct {
	version uint32
	uid     uint32
	ngroups int16
	groups  [16]uint32
}

const (
	solLocal      = 0 // SOL_LOCAL
	localPeercred = 1 // LOCAL_PEERCRED
)

// peerUID reads the uid of the process serving the connected socket fd
// with getsockopt(LOCAL_PEERCRED), which the syscall package does not wrap.
func peerUID(fd int) (int, error) {
	var x xucred
	n := uint32(unsafe.Sizeof(x))
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, uintptr(fd), solLocal, localPeercred,
		uintptr(unsafe.Pointer(&x)), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return -1, os.NewSyscallError("getsockopt LOCAL_PEERCRED", e)
	}
	if x.version != 0 || n < uint32(unsafe.Offsetof(x.ngroups)) {
		return -1, errors.New("getsockopt LOCAL_PEERCRED: unexpected struct xucred")
	}
	return int(x.uid), nil
}
