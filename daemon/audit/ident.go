package audit

import (
	"os"
	"syscall"
)

// ident is a file's identity (device and inode) and size.
type ident struct {
	dev, ino uint64
	size     int64
}

// identOf is fi's identity; zero if fi is nil or says nothing of it.
func identOf(fi os.FileInfo) ident {
	if fi == nil {
		return ident{}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ident{}
	}
	return ident{dev: uint64(st.Dev), ino: st.Ino, size: fi.Size()}
}

func (i ident) zero() bool { return i == ident{} }

// same reports whether o is the same file as i.
func (i ident) same(o ident) bool { return i.dev == o.dev && i.ino == o.ino }
