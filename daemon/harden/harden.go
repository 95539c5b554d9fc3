// Package harden makes the agent's process keep secrets to itself: no core
// dumps, and on Linux no ptrace or /proc/PID/mem access by other processes
// of the same user.
package harden

// Apply hardens the current process. It returns the first step that failed;
// the caller decides whether that is fatal.
func Apply() error { return apply() }
