//go:build linux

package main

import "syscall"

// sockCloexec closes the socket on exec, in the socket call itself.
const sockCloexec = syscall.SOCK_CLOEXEC
