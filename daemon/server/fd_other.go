//go:build !(linux && (amd64 || arm64))

package server

import (
	"errors"
	"os"
	"syscall"
)

// acceptor takes connections off one listener.
type acceptor struct {
	lc  syscall.RawConn
	fn  func(fd uintptr) bool
	nfd int
	err error
}

func newAcceptor(lc syscall.RawConn) *acceptor {
	a := &acceptor{lc: lc}
	a.fn = func(fd uintptr) bool {
		for {
			// No accept4 here: close-on-exec is set under the lock that
			// keeps a fork from inheriting the descriptor meanwhile.
			syscall.ForkLock.RLock()
			n, _, err := syscall.Accept(int(fd))
			if err == nil {
				syscall.CloseOnExec(n)
			}
			syscall.ForkLock.RUnlock()
			switch err {
			case syscall.EINTR, syscall.ECONNABORTED:
				continue
			case syscall.EAGAIN:
				return false
			}
			a.nfd, a.err = n, err
			return true
		}
	}
	return a
}

// accept takes the next connection, its descriptor non-blocking and
// close-on-exec, waiting in the runtime's poller until one comes.
func (a *acceptor) accept() (int, error) {
	if err := a.lc.Read(a.fn); err != nil {
		return -1, err
	}
	if a.err != nil {
		return -1, os.NewSyscallError("accept", a.err)
	}
	if err := syscall.SetNonblock(a.nfd, true); err != nil {
		syscall.Close(a.nfd)
		return -1, os.NewSyscallError("setnonblock", err)
	}
	return a.nfd, nil
}

// readFD reads what fd holds now, without waiting: syscall.EAGAIN when it
// holds nothing yet, 0 and no error at the end of input.
func readFD(fd int, b []byte) (int, error) {
	for {
		n, err := syscall.Read(fd, b)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		return n, nil
	}
}

// writeFD writes as much of b as fd takes now, without waiting.
func writeFD(fd int, b []byte) (int, error) {
	sent := 0
	for sent < len(b) {
		n, err := syscall.Write(fd, b[sent:])
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return sent, err
		}
		sent += n
	}
	return sent, nil
}

func closeFD(fd int) { _ = syscall.Close(fd) }
