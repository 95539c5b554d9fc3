package client

import (
	"fmt"
	"os"
)

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
		return fmt.Sprintf("%s is not a directory (a symlink?)", e.Dir)
	case OwnerUnreadable:
		return fmt.Sprintf("the owner of %s cannot be read on this system", e.Dir)
	case OtherOwner:
		return fmt.Sprintf("%s is owned by uid %d, not %d", e.Dir, e.UID, os.Getuid())
	}
	return fmt.Sprintf("%s is open to group or others (mode %04o)", e.Dir, e.Mode)
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
