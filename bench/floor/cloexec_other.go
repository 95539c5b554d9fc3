//go:build !linux

package main

// sockCloexec is 0 where socket(2) takes no SOCK_CLOEXEC; the floor execs
// nothing, so nothing leaks.
const sockCloexec = 0
