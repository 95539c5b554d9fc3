// Command rss runs a program and prints its peak resident set size
// (ru_maxrss, in KiB) on stderr as "maxrss_kib=N". The kernel counts the
// memory of the process that started the child until the exec, so a large
// parent (the bench program) would inflate the figure; this starter is a
// small static binary, which keeps that share to well under a megabyte.
// Its own figure, run on the floor program, is the lower bound.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rss PROGRAM [ARG]...")
		os.Exit(2)
	}
	pid, err := syscall.ForkExec(os.Args[1], os.Args[1:], &syscall.ProcAttr{
		Env: os.Environ(), Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(1)
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	if _, err := syscall.Wait4(pid, &ws, 0, &ru); err != nil {
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "maxrss_kib=%d\n", ru.Maxrss)
	os.Exit(ws.ExitStatus())
}
