//go:build !linux

package harden

import (
	"fmt"
	"syscall"
)

func apply() error {
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("set core limit to 0: %w", err)
	}
	return nil
}
