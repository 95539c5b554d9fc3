//go:build !unix

package client

import (
	"errors"
	"syscall"
	"time"
)

func lockFile(string, time.Duration) (func(), error) {
	return nil, errors.New("helper autostart is not supported on this system")
}

func detached() *syscall.SysProcAttr { return nil }
