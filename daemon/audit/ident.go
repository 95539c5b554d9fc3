package audit

import (
	"os"
	"syscall"
)

// ident is a file's identity: its device and inode.
type ident struct{ dev, ino uint64 }

// identOf is fi's identity; zero if fi is nil or says nothing of it.
func identOf(fi os.FileInfo) ident {
	if fi == nil {
		return ident{}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ident{}
	}
	return ident{dev: uint64(st.Dev), ino: st.Ino}
}

func (i ident) zero() bool { return i == ident{} }
