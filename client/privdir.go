package client

import "github.com/keyfob/keyfob/client/pump"

// DirProblem is what makes a directory not private.
type DirProblem = pump.DirProblem

// The ways CheckPrivateDir refuses a directory.
const (
	NotADirectory   = pump.NotADirectory
	OwnerUnreadable = pump.OwnerUnreadable
	OtherOwner      = pump.OtherOwner
	OpenToOthers    = pump.OpenToOthers
)

// DirError says why CheckPrivateDir refused a directory.
type DirError = pump.DirError

// CheckPrivateDir checks that dir is private to this process's uid: a real
// directory, not a symlink, owned by the uid, with no group or other
// access (pump.CheckPrivateDir, which the helper shares).
func CheckPrivateDir(dir string) error { return pump.CheckPrivateDir(dir) }
