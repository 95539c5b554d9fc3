package listen

import (
	"net"
	"os"
	"runtime"
	"syscall"
)

// bindMode listens at path, the socket file created by bind(2) with mode.
//
// bind gives the file 0777 minus the umask, so the umask is what sets the
// mode: a chmod by path after bind would act on whatever sits at the path
// by then, and there is a moment in which the socket has the wrong mode.
// The umask belongs to the whole process, though, and files that other
// goroutines create meanwhile would get it too (a 0666 grant socket needs
// umask 0111, which would widen them). So the bind runs on an OS thread of
// its own that first unshares its filesystem attributes (CLONE_FS): its
// umask is then its alone. The goroutine never unlocks the thread, so the
// runtime ends the thread with it and no other goroutine runs there.
func bindMode(path string, mode os.FileMode) (*net.UnixListener, error) {
	type result struct {
		l   *net.UnixListener
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := syscall.Unshare(syscall.CLONE_FS); err != nil {
			done <- result{err: os.NewSyscallError("unshare CLONE_FS", err)}
			return
		}
		syscall.Umask(int(0o777 &^ mode))
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		done <- result{l, err}
	}()
	r := <-done
	return r.l, r.err
}
