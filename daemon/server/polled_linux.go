//go:build linux && (amd64 || arm64)

package server

import (
	"io"
	"os"
	"syscall"
	"time"
)

// polled is a connection in the runtime's poller, waited on with
// deadlines but read and written with raw system calls (see fd_linux.go).
type polled struct {
	f      *os.File
	rc     syscall.RawConn
	buf    []byte
	n      int
	err    error
	rd, wr func(fd uintptr) bool
}

// newPolled wraps f, a socket in the runtime's poller.
func newPolled(f *os.File) (conn, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	p := &polled{f: f, rc: rc}
	p.rd = func(fd uintptr) bool {
		n, err := readFD(int(fd), p.buf)
		if err == syscall.EAGAIN {
			return false
		}
		p.n, p.err = n, err
		return true
	}
	p.wr = func(fd uintptr) bool {
		n, err := writeFD(int(fd), p.buf)
		p.buf = p.buf[n:]
		p.n += n
		if err == syscall.EAGAIN {
			return false
		}
		p.err = err
		return true
	}
	return p, nil
}

func (p *polled) Read(b []byte) (int, error) {
	p.buf, p.n, p.err = b, 0, nil
	err := p.rc.Read(p.rd)
	p.buf = nil
	if err != nil {
		return 0, err
	}
	if p.err != nil {
		return 0, p.err
	}
	if p.n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return p.n, nil
}

func (p *polled) Write(b []byte) (int, error) {
	p.buf, p.n, p.err = b, 0, nil
	err := p.rc.Write(p.wr)
	n := p.n
	p.buf = nil
	if err != nil {
		return n, err
	}
	return n, p.err
}

func (p *polled) Close() error                       { return p.f.Close() }
func (p *polled) SetReadDeadline(t time.Time) error  { return p.f.SetReadDeadline(t) }
func (p *polled) SetWriteDeadline(t time.Time) error { return p.f.SetWriteDeadline(t) }
