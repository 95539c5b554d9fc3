package pump

import (
	"os"
	"syscall"
)

// DelegateCommand is the keyfob command the helper hands a request to when
// no agent answers: keyfob git-credential OP, which reads git's lines on
// stdin and does what the helper did before the agent was started.
const DelegateCommand = "git-credential"

// delegate runs keyfob git-credential op with lines on its stdin and the
// helper's own stdout and stderr, and returns its exit status. ok is false
// when keyfob cannot be found or run.
func delegate(op string, lines []byte, stdout, stderr *os.File) (status int, ok bool) {
	exe, err := KeyfobExe()
	if err != nil {
		return 0, false
	}
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return 0, false
	}
	// Neither end stays open in keyfob as it is: its stdin is p[0] made
	// fd 0, and an inherited write end would keep it from reading the
	// end of input.
	syscall.CloseOnExec(p[0])
	syscall.CloseOnExec(p[1])
	pid, err := syscall.ForkExec(exe, []string{exe, DelegateCommand, op}, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{uintptr(p[0]), stdout.Fd(), stderr.Fd()},
	})
	syscall.Close(p[0])
	if err != nil {
		syscall.Close(p[1])
		return 0, false
	}
	for rest := lines; len(rest) > 0; {
		n, err := syscall.Write(p[1], rest)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			break // it stopped reading; its status says the rest
		}
		rest = rest[n:]
	}
	syscall.Close(p[1])
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if ws.Exited() {
		return ws.ExitStatus(), true
	}
	return 1, true
}
