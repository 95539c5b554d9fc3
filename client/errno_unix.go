//go:build unix

package client

import "syscall"

var errConnRefused error = syscall.ECONNREFUSED
