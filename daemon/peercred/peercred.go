// Package peercred reads the credentials of the process at the other end of
// a Unix socket. The uid is the boundary keyfob enforces; pid and exe are
// hints recorded in the audit log.
package peercred

import (
	"errors"
	"net"
)

// Cred identifies a peer process.
type Cred struct {
	UID int
	GID int
	// PID is 0 when the platform does not report it.
	PID int
	// Exe is the peer's executable, "" when it cannot be read (another
	// uid, a non-dumpable process, or a platform without /proc).
	Exe string
}

// ErrUnsupported is returned on platforms where peer credentials cannot be
// read. Callers must treat it as a refusal: the check fails closed.
var ErrUnsupported = errors.New("peer credentials are not supported on this platform")

// Get returns the credentials of c's peer.
func Get(c *net.UnixConn) (Cred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Cred{}, err
	}
	var cred Cred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = get(fd) }); err != nil {
		return Cred{}, err
	}
	if cerr != nil {
		return Cred{}, cerr
	}
	cred.Exe = exe(cred.PID)
	return cred, nil
}
