package client

import (
	"bufio"
	"fmt"
	"net"
	"time"
)

// DefaultTimeout bounds one request and its answer.
const DefaultTimeout = 5 * time.Second

// Conn is a connection to the agent. It may carry several requests, one
// after another; it is not safe for concurrent use.
type Conn struct {
	c       net.Conn
	r       *bufio.Reader
	Timeout time.Duration
}

// Dial connects to the agent's socket at path. Before it returns, it checks
// that the agent serves it (trust.go): a socket or directory that another
// uid could have made is an *UntrustedError, and nothing has been sent.
func Dial(path string) (*Conn, error) {
	c, err := dialTimeout(path, DefaultTimeout)
	if err != nil {
		return nil, err
	}
	return &Conn{c: c, r: bufio.NewReaderSize(c, 4096), Timeout: DefaultTimeout}, nil
}

func dialTimeout(path string, timeout time.Duration) (*net.UnixConn, error) {
	if err := beforeDial(path); err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UnixConn)
	raw, err := uc.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	var verr error
	if err := raw.Control(func(fd uintptr) { verr = verifyPeer(path, int(fd)) }); err != nil {
		c.Close()
		return nil, err
	}
	if verr != nil {
		c.Close()
		return nil, verr
	}
	return uc, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Do sends req and waits for the answer. An answer that carries an error code
// is returned as an *Error, together with the response.
func (c *Conn) Do(req *Request) (*Response, error) {
	req.V = Version
	b, err := EncodeRequest(req)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", req.Op, err)
	}
	if c.Timeout > 0 {
		_ = c.c.SetDeadline(time.Now().Add(c.Timeout))
	}
	if _, werr := c.c.Write(b); werr != nil {
		// An agent that refuses the connection (too many) answers and
		// closes before reading; its answer may still be there to read.
		if line, rerr := ReadLine(c.r); rerr == nil {
			if resp, derr := DecodeResponse(line); derr == nil && resp.Code != "" {
				return resp, resp.Err()
			}
		}
		return nil, fmt.Errorf("send %s request: %w", req.Op, werr)
	}
	line, err := ReadLine(c.r)
	if err != nil {
		return nil, fmt.Errorf("read %s answer: %w", req.Op, err)
	}
	resp, err := DecodeResponse(line)
	if err != nil {
		return nil, fmt.Errorf("read %s answer: %w", req.Op, err)
	}
	return resp, resp.Err()
}

// Call dials the agent at path, sends one request and closes the connection.
func Call(path string, req *Request) (*Response, error) {
	c, err := Dial(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Do(req)
}
