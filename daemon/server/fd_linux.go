//go:build linux && (amd64 || arm64)

package server

import (
	"os"
	"syscall"
	"unsafe"
)

// The system calls on a connection's fast path (accept, read, write,
// close) are raw: none of them waits (every descriptor is non-blocking),
// and one that the kernel preempts must not make the runtime hand the
// agent's one P to another thread, as it does for a system call it sees
// last longer than its monitor's tick.

// acceptor takes connections off one listener.
type acceptor struct {
	lc    syscall.RawConn
	fn    func(fd uintptr) bool
	nfd   int
	errno syscall.Errno
}

func newAcceptor(lc syscall.RawConn) *acceptor {
	a := &acceptor{lc: lc}
	a.fn = func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall6(syscall.SYS_ACCEPT4, fd, 0, 0, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0, 0)
			switch e {
			case syscall.EINTR, syscall.ECONNABORTED:
				continue
			case syscall.EAGAIN:
				return false
			}
			a.nfd, a.errno = int(r), e
			return true
		}
	}
	return a
}

// accept takes the next connection, its descriptor non-blocking and
// close-on-exec, waiting in the runtime's poller until one comes. The
// peer's address is not read: a Unix socket's peer has none worth the
// system call.
func (a *acceptor) accept() (int, error) {
	if err := a.lc.Read(a.fn); err != nil {
		return -1, err
	}
	if a.errno != 0 {
		return -1, os.NewSyscallError("accept4", a.errno)
	}
	return a.nfd, nil
}

// readFD reads what fd holds now, without waiting: syscall.EAGAIN when it
// holds nothing yet, 0 and no error at the end of input.
func readFD(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch e {
		case 0:
			return int(n), nil
		case syscall.EINTR:
			continue
		}
		return 0, e
	}
}

// writeFD writes as much of b as fd takes now, without waiting.
func writeFD(fd int, b []byte) (int, error) {
	sent := 0
	for sent < len(b) {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[sent])), uintptr(len(b)-sent))
		switch e {
		case 0:
			sent += int(n)
		case syscall.EINTR:
		default:
			return sent, e
		}
	}
	return sent, nil
}

func closeFD(fd int) { syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0) }
