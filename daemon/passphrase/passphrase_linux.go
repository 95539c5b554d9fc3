package passphrase

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/keyfob/keyfob/client"
)

// reexecWithout runs this program again in this process, with the same
// arguments and environment but without KEYFOB_FILE_PASSPHRASE, and hands
// the passphrase over on a pipe named by KEYFOB_PASSPHRASE_FD. The kernel
// keeps a process's first environment for /proc/PID/environ, and Go's
// os.Unsetenv does not change it; a new exec is the only clean way out.
// The pid stays the same, so systemd's LISTEN_PID, NOTIFY_SOCKET and
// watchdog still name this process, and activated sockets (fds 3 and up,
// not yet touched) pass through the exec unchanged. The pipe gets
// whatever descriptor is free after them. It returns only on failure.
func reexecWithout(pass string) error {
	if len(pass) > maxPass {
		return fmt.Errorf("%s is longer than %d bytes", passEnv, maxPass)
	}
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return fmt.Errorf("hand over %s: %w", passEnv, err)
	}
	fail := func(err error) error {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return fmt.Errorf("hand over %s: %w", passEnv, err)
	}
	// The read end alone survives the exec.
	if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(p[0]), syscall.F_SETFD, 0); errno != 0 {
		return fail(errno)
	}
	b := []byte(pass)
	n, err := syscall.Write(p[1], b)
	clear(b)
	if err == nil && n != len(b) {
		err = syscall.EAGAIN
	}
	if err != nil {
		return fail(err)
	}
	syscall.Close(p[1])
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, passEnv+"=") || strings.HasPrefix(kv, passFDEnv+"=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, passFDEnv+"="+strconv.Itoa(p[0]))
	err = syscall.Exec("/proc/self/exe", os.Args, env)
	syscall.Close(p[0])
	return fmt.Errorf("hand over %s: re-execute %s: %w", passEnv, os.Args[0], err)
}

// readPassFD reads the passphrase from the descriptor v names, which must
// be a pipe or a regular file (never a socket: an activated listener is
// no passphrase), and closes it.
func readPassFD(v string) (client.Secret, error) {
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return client.Secret{}, fmt.Errorf("%s=%q: want a descriptor number, 3 or more", passFDEnv, v)
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return client.Secret{}, fmt.Errorf("%s=%d: %w", passFDEnv, fd, err)
	}
	if m := st.Mode & syscall.S_IFMT; m != syscall.S_IFIFO && m != syscall.S_IFREG {
		return client.Secret{}, fmt.Errorf("%s=%d: not a pipe or a file", passFDEnv, fd)
	}
	s, err := readAllPass(fdReader(fd))
	if err != nil {
		return client.Secret{}, fmt.Errorf("%s=%d: %w", passFDEnv, fd, err)
	}
	return s, nil
}

// fdReader reads a descriptor with read(2) directly, outside Go's poller.
type fdReader int

func (r fdReader) Read(b []byte) (int, error) {
	for {
		n, err := syscall.Read(int(r), b)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}
