package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// A client trusts only its own agent, and checks before it sends anything:
// no request, token or passphrase goes to a socket that someone else could
// have put in place, and no answer from one reaches git.
//
//   - On the default socket ($XDG_RUNTIME_DIR/keyfob/agent.sock, or
//     $TMPDIR/keyfob-UID/agent.sock) the directory must be a real directory
//     (not a symlink), owned by the client's uid, with no group or other
//     access: the rule the agent applies when it creates it. One lstat.
//   - On every socket, the uid that serves it (SO_PEERCRED, LOCAL_PEERCRED
//     on macOS) must be the client's own uid. One getsockopt after connect.
//     An explicit $KEYFOB_SOCKET may also be served by the uid that
//     $KEYFOB_SOCKET_UID names: a grant socket seen from a container that
//     runs as another uid. The overflow uid (65534), which every uid
//     without a mapping in the client's user namespace reads as, names
//     nobody in particular and is always refused.
//
// Platforms where the peer's uid cannot be read refuse every socket.

// SocketUIDEnv names the variable that lets an explicit KEYFOB_SOCKET be
// served by another uid than the client's, as the client's user namespace
// sees that uid.
const SocketUIDEnv = "KEYFOB_SOCKET_UID"

// overflowUID is what the kernel reports for a uid that has no mapping in
// the reader's user namespace.
const overflowUID = 65534

// UntrustedError means the socket, or its directory, may belong to someone
// other than the client's uid. Nothing was sent on it.
type UntrustedError struct {
	// Problem says what was found, naming the path and the uids.
	Problem string
	// Fix says what to do about it.
	Fix string
}

func (e *UntrustedError) Error() string {
	return e.Problem + ": refusing to talk to it; " + e.Fix
}

// beforeDial checks the directory of the default socket path. Any other
// path, and whatever $KEYFOB_SOCKET names, is checked by its peer uid
// only: inside a sandbox its directory is whatever the mount made. A
// missing directory passes: the connect that follows fails, and says that
// no agent runs.
func beforeDial(path string) error {
	if path != defaultSocketPath() || path == os.Getenv("KEYFOB_SOCKET") {
		return nil
	}
	dir := filepath.Dir(path)
	err := CheckPrivateDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	return untrustedDir(dir, err)
}

// untrustedDir words CheckPrivateDir's refusal of a socket directory that
// others could use to plant a socket or a lock file.
func untrustedDir(dir string, err error) error {
	var de *DirError
	if !errors.As(err, &de) {
		if err != nil {
			return fmt.Errorf("socket directory %s: %w", dir, err)
		}
		return nil
	}
	switch de.Problem {
	case NotADirectory:
		return &UntrustedError{
			Problem: fmt.Sprintf("the socket directory %s is not a directory (a symlink?)", dir),
			Fix:     "remove it or check who created it; the agent creates the directory itself"}
	case OwnerUnreadable:
		return &UntrustedError{
			Problem: fmt.Sprintf("the owner of the socket directory %s cannot be read on this system", dir),
			Fix:     "set KEYFOB_SOCKET to a socket in a directory only you can reach"}
	case OtherOwner:
		return &UntrustedError{
			Problem: fmt.Sprintf("the socket directory %s is owned by uid %d, not you (uid %d)", dir, de.UID, os.Getuid()),
			Fix:     "remove it or check who created it; the agent creates the directory itself"}
	}
	return &UntrustedError{
		Problem: fmt.Sprintf("the socket directory %s is open to group or others (mode %04o)", dir, de.Mode),
		Fix:     fmt.Sprintf("run chmod 700 %s and check who created what is in it", dir)}
}

// checkPeer decides whether the uid that serves the socket at path is one
// the client talks to.
func checkPeer(path string, uid int) error {
	me := os.Getuid()
	if uid == overflowUID {
		return &UntrustedError{
			Problem: fmt.Sprintf("the socket at %s is served by uid %d, the overflow uid that every uid unmapped in this user namespace reads as, so who serves it is unknown", path, uid),
			Fix:     "map the agent's uid into the sandbox (podman --userns=keep-id, or run the container as your uid)"}
	}
	if uid == me {
		return nil
	}
	fix := "remove it or check who created it"
	if explicit := os.Getenv("KEYFOB_SOCKET"); explicit != "" && path == explicit {
		if s := os.Getenv(SocketUIDEnv); s != "" {
			want, err := strconv.Atoi(s)
			if err != nil || want < 0 {
				return &UntrustedError{
					Problem: fmt.Sprintf("%s=%q is not a uid", SocketUIDEnv, s),
					Fix:     "set it to the uid that serves KEYFOB_SOCKET as this process sees it, or unset it"}
			}
			if uid == want {
				return nil
			}
			fix = fmt.Sprintf("%s says uid %d serves it; remove it or check who created it", SocketUIDEnv, want)
		} else {
			fix = fmt.Sprintf("remove it or check who created it (a sandbox whose agent shows as another uid sets %s)", SocketUIDEnv)
		}
	}
	return &UntrustedError{
		Problem: fmt.Sprintf("the socket at %s is served by uid %d, not you (uid %d)", path, uid, me),
		Fix:     fix}
}

// verifyPeer checks who serves the connected socket fd at path.
func verifyPeer(path string, fd int) error {
	uid, err := peerUID(fd)
	if err != nil {
		return &UntrustedError{
			Problem: fmt.Sprintf("who serves the socket at %s cannot be read (%v)", path, err),
			Fix:     "keyfob talks only to an agent it can identify"}
	}
	return checkPeer(path, uid)
}
