package client

import (
	"fmt"
	"io"
	"syscall"
)

// gitCall sends git's request to the agent and reads the answer with plain
// system calls. The net package would set up its poller (epoll, an eventfd,
// non-blocking sockets) for a single exchange; on the helper's path that
// costs more than the exchange itself. Timeouts come from SO_SNDTIMEO and
// SO_RCVTIMEO instead of deadlines. Who serves the socket is checked as
// Dial checks it (trust.go): one lstat before connect, one getsockopt after.
//
// Only requests made of an op, a credential and (store) git's password
// and refresh token take this path; others go through Call.
func gitCall(path string, r *Request) (*Response, error) {
	if r.Name != "" || r.Meta != nil || r.Grant != nil || r.App != nil || r.Login != nil {
		return Call(path, r)
	}
	op := r.Op
	req, ok := gitRequestLine(op, r.Cred, r.Secret, r.Refresh)
	if !ok {
		return Call(path, r)
	}
	// The line may hold git's password (store).
	defer clear(req)
	if err := beforeDial(path); err != nil {
		return nil, err
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	defer syscall.Close(fd)
	tv := syscall.NsecToTimeval(int64(DefaultTimeout))
	for _, opt := range []int{syscall.SO_SNDTIMEO, syscall.SO_RCVTIMEO} {
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, opt, &tv); err != nil {
			return nil, fmt.Errorf("dial %s: %w", path, err)
		}
	}
	if err := retryEINTR(func() error { return syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}) }); err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	if err := verifyPeer(path, fd); err != nil {
		return nil, err
	}
	for rest := req; len(rest) > 0; {
		n, err := syscall.Write(fd, rest)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("send %s request: %w", op, timeoutErr(err))
		}
		rest = rest[n:]
	}
	line := make([]byte, 0, 1024)
	for {
		if len(line) == cap(line) {
			line = append(line, 0)[:len(line)]
		}
		n, err := syscall.Read(fd, line[len(line):cap(line)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s answer: %w", op, timeoutErr(err))
		}
		if n == 0 {
			return nil, fmt.Errorf("read %s answer: agent closed the connection: %w", op, io.ErrUnexpectedEOF)
		}
		line = line[:len(line)+n]
		if line[len(line)-1] == '\n' {
			break
		}
		if len(line) > MaxMessage {
			return nil, fmt.Errorf("read %s answer: %w", op, ErrTooLarge)
		}
	}
	resp, err := decodeGitResponse(line)
	if err != nil {
		return nil, fmt.Errorf("read %s answer: %w", op, err)
	}
	return resp, resp.Err()
}

func retryEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}

// timeoutErr names a socket timeout: SO_RCVTIMEO and SO_SNDTIMEO end a
// blocked call with EAGAIN.
func timeoutErr(err error) error {
	if err == syscall.EAGAIN {
		return fmt.Errorf("agent did not answer within %s", DefaultTimeout)
	}
	return err
}
