//go:build !linux

package listen

import (
	"net"
	"os"
	"sync"
	"syscall"
)

// bindMu serialises every bind in the process: Unix is the only place
// keyfob binds a socket.
var bindMu sync.Mutex

// bindMode listens at path, the socket file created by bind(2) with mode:
// bind gives it 0777 minus the umask, so no chmod follows (one by path
// would act on whatever sits there by then). Outside Linux a thread cannot
// have a umask of its own, so the process's umask is set for the bind and
// restored after it, under bindMu; a file that another goroutine creates
// in that moment gets the same umask.
func bindMode(path string, mode os.FileMode) (*net.UnixListener, error) {
	bindMu.Lock()
	defer bindMu.Unlock()
	old := syscall.Umask(int(0o777 &^ mode))
	defer syscall.Umask(old)
	return net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
}
