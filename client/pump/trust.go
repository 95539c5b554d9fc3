package pump

import (
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

// DirProblem is what makes a directory not private.
type DirProblem int

// The ways CheckPrivateDir refuses a directory.
const (
	// NotADirectory: a file, or a symlink (followed by nothing).
	NotADirectory DirProblem = iota + 1
	// OwnerUnreadable: this system does not say who owns the directory.
	OwnerUnreadable
	// OtherOwner: another uid owns it.
	OtherOwner
	// OpenToOthers: group or others have some access.
	OpenToOthers
)

// DirError says why CheckPrivateDir refused a directory. Its callers word
// the problem and its fix for where they are; Error is a plain summary.
type DirError struct {
	Dir     string
	Problem DirProblem
	// UID owns Dir, for OtherOwner.
	UID int
	// Mode is Dir's permission bits.
	Mode os.FileMode
}

func (e *DirError) Error() string {
	switch e.Problem {
	case NotADirectory:
		return e.Dir + " is not a directory (a symlink?)"
	case OwnerUnreadable:
		return "the owner of " + e.Dir + " cannot be read on this system"
	case OtherOwner:
		return e.Dir + " is owned by uid " + strconv.Itoa(e.UID) + ", not " + strconv.Itoa(os.Getuid())
	}
	return e.Dir + " is open to group or others (mode " + octal(e.Mode) + ")"
}

// octal formats permission bits as chmod takes them, four digits.
func octal(m os.FileMode) string {
	s := strconv.FormatUint(uint64(m.Perm()), 8)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// CheckPrivateDir checks that dir is private to this process's uid: a real
// directory, not a symlink, owned by the uid, with no group or other
// access. That is the rule for every directory keyfob puts a socket, a
// lock or a grant in. A failing lstat is returned as it is (os.IsNotExist
// tells a missing directory); a directory that breaks the rule is a
// *DirError. The checks run in the order of DirProblem's values.
func CheckPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	perm := fi.Mode().Perm()
	if !fi.IsDir() {
		return &DirError{Dir: dir, Problem: NotADirectory, Mode: perm}
	}
	uid, ok := ownerUID(fi)
	switch {
	case !ok:
		return &DirError{Dir: dir, Problem: OwnerUnreadable, Mode: perm}
	case uid != os.Getuid():
		return &DirError{Dir: dir, Problem: OtherOwner, UID: uid, Mode: perm}
	case perm&0o077 != 0:
		return &DirError{Dir: dir, Problem: OpenToOthers, Mode: perm}
	}
	return nil
}

// BeforeDial checks the directory of the default socket path. Any other
// path, and whatever $KEYFOB_SOCKET names, is checked by its peer uid
// only: inside a sandbox its directory is whatever the mount made. A
// missing directory passes: the connect that follows fails, and says that
// no agent runs.
func BeforeDial(path string) error {
	if path != DefaultSocketPath() || path == os.Getenv("KEYFOB_SOCKET") {
		return nil
	}
	dir := filepath.Dir(path)
	err := CheckPrivateDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	return UntrustedDir(dir, err)
}

// UntrustedDir words CheckPrivateDir's refusal of a socket directory that
// others could use to plant a socket or a lock file. Errors that are not a
// *DirError come back naming the directory; nil stays nil.
func UntrustedDir(dir string, err error) error {
	de, ok := err.(*DirError)
	if !ok {
		if err != nil {
			return &wrapped{"socket directory " + dir + ": " + err.Error(), err}
		}
		return nil
	}
	fix := "remove it or check who created it; the agent creates the directory itself"
	switch de.Problem {
	case NotADirectory:
		return &UntrustedError{Problem: "the socket directory " + dir + " is not a directory (a symlink?)", Fix: fix}
	case OwnerUnreadable:
		return &UntrustedError{
			Problem: "the owner of the socket directory " + dir + " cannot be read on this system",
			Fix:     "set KEYFOB_SOCKET to a socket in a directory only you can reach"}
	case OtherOwner:
		return &UntrustedError{
			Problem: "the socket directory " + dir + " is owned by uid " + strconv.Itoa(de.UID) + ", not you (uid " + strconv.Itoa(os.Getuid()) + ")",
			Fix:     fix}
	}
	return &UntrustedError{
		Problem: "the socket directory " + dir + " is open to group or others (mode " + octal(de.Mode) + ")",
		Fix:     "run chmod 700 " + dir + " and check who created what is in it"}
}

// wrapped is an error with a prefix that errors.Is and errors.As see
// through.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

// CheckPeer decides whether the uid that serves the socket at path is one
// the client talks to.
func CheckPeer(path string, uid int) error {
	me := os.Getuid()
	if uid == overflowUID {
		return &UntrustedError{
			Problem: "the socket at " + path + " is served by uid " + strconv.Itoa(uid) + ", the overflow uid that every uid unmapped in this user namespace reads as, so who serves it is unknown",
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
					Problem: SocketUIDEnv + "=" + strconv.Quote(s) + " is not a uid",
					Fix:     "set it to the uid that serves KEYFOB_SOCKET as this process sees it, or unset it"}
			}
			if uid == want {
				return nil
			}
			fix = SocketUIDEnv + " says uid " + strconv.Itoa(want) + " serves it; remove it or check who created it"
		} else {
			fix = "remove it or check who created it (a sandbox whose agent shows as another uid sets " + SocketUIDEnv + ")"
		}
	}
	return &UntrustedError{
		Problem: "the socket at " + path + " is served by uid " + strconv.Itoa(uid) + ", not you (uid " + strconv.Itoa(me) + ")",
		Fix:     fix}
}

// VerifyPeer checks who serves the connected socket fd at path.
func VerifyPeer(path string, fd int) error {
	uid, err := peerUID(fd)
	if err != nil {
		return &UntrustedError{
			Problem: "who serves the socket at " + path + " cannot be read (" + err.Error() + ")",
			Fix:     "keyfob talks only to an agent it can identify"}
	}
	return CheckPeer(path, uid)
}
