// Package peercred reads the credentials of the process at the other end of
// a Unix socket. The uid is the boundary keyfob enforces; pid and exe are
// hints recorded in the audit log.
package peercred

import (
	"errors"
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

// FromFD returns the credentials of the peer of the connected Unix socket
// fd.
func FromFD(fd int) (Cred, error) {
	cred, err := get(uintptr(fd))
	if err != nil {
		return Cred{}, err
	}
	cred.Exe = exe(cred.PID)
	return cred, nil
}
