//go:build !unix

package client

import (
	"errors"
	"os"
	"syscall"
	"time"
)

func ownerUID(os.FileInfo) (int, bool) { return 0, false }

func lockFile(string, time.Duration) (func(), error) {
	return nil, errors.New("helper autostart is not supported on this system")
}

func detached() *syscall.SysProcAttr { return nil }
