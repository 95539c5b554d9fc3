package pump

import (
	"errors"
	"strconv"
	"syscall"
	"time"
)

// Timeout bounds one exchange with the agent.
const Timeout = 5 * time.Second

// maxAnswer bounds an answer: git's lines back, and a few for the user.
const maxAnswer = 2*MaxGitInput + 64<<10

var errNotRunning = errors.New("no agent answers")

// exchange sends req to the agent at path and reads its whole answer, with
// plain system calls: the net package would set up its poller (epoll, an
// eventfd, non-blocking sockets) for a single exchange, which costs more
// than the exchange. Timeouts come from SO_SNDTIMEO and SO_RCVTIMEO. Who
// serves the socket is checked before anything is sent (trust.go).
func exchange(path string, req []byte) ([]byte, error) {
	if err := BeforeDial(path); err != nil {
		return nil, err
	}
	fd, err := socket()
	if err != nil {
		return nil, sysErr("dial "+path, err)
	}
	defer syscall.Close(fd)
	tv := syscall.NsecToTimeval(int64(Timeout))
	for _, opt := range []int{syscall.SO_SNDTIMEO, syscall.SO_RCVTIMEO} {
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, opt, &tv); err != nil {
			return nil, sysErr("dial "+path, err)
		}
	}
	for {
		err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: path})
		if err != syscall.EINTR {
			break
		}
	}
	switch err {
	case nil:
	case syscall.ENOENT, syscall.ECONNREFUSED:
		return nil, errNotRunning
	default:
		return nil, sysErr("dial "+path, err)
	}
	if err := VerifyPeer(path, fd); err != nil {
		return nil, err
	}
	for rest := req; len(rest) > 0; {
		n, err := syscall.Write(fd, rest)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			// An agent that refuses the connection (too many) answers
			// and closes before reading; its answer is read below.
			break
		}
		rest = rest[n:]
	}
	// Nothing more will be sent: the agent reads the end of input as soon
	// as it has answered, and closes, without waiting to be woken for it.
	_ = syscall.Shutdown(fd, syscall.SHUT_WR)
	b := make([]byte, 0, 1024)
	for {
		if len(b) == cap(b) {
			b = Grow(b, cap(b))
		}
		n, err := syscall.Read(fd, b[len(b):cap(b)])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			clear(b)
			return nil, errors.New("the agent at " + path + " did not answer within " + Timeout.String())
		}
		if err != nil {
			clear(b)
			return nil, sysErr("read answer from "+path, err)
		}
		if n == 0 {
			// End of input: ParseAnswer says what is missing.
			return b, nil
		}
		b = b[:len(b)+n]
		if b[0] == '{' && b[len(b)-1] == '\n' {
			return b, nil // a JSON answer: one line
		}
		if end := AnswerEnd(b); end > 0 {
			return b[:end], nil
		}
		if len(b) > maxAnswer {
			clear(b)
			return nil, errors.New("read answer from " + path + ": the answer exceeds " + strconv.Itoa(maxAnswer) + " bytes")
		}
	}
}

func sysErr(what string, err error) error { return errors.New(what + ": " + err.Error()) }
