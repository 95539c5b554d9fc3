// Command floor is the benchmark's floor: a static Go program that does
// nothing a credential helper needs beyond starting. Given "get" it prints a
// fixed, fake credential, so that git credential fill through it has a floor
// too. With FLOOR_SOCKET set it is the Go floor of a helper that asks a
// daemon: it reads git's request, sends one line over that Unix socket
// (bench/floorsrv answers at once), reads the answer line and prints a
// fake credential, with plain system calls, as the helper's own path does.
package main

import (
	"os"
	"syscall"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "get" {
		return
	}
	if sock := os.Getenv("FLOOR_SOCKET"); sock != "" {
		if !roundTrip(sock) {
			os.Exit(1)
		}
	}
	os.Stdout.WriteString("username=floor\npassword=floor-not-a-secret\n")
}

// roundTrip sends one request line and reads one answer line.
func roundTrip(sock string) bool {
	var in [4096]byte
	_, _ = os.Stdin.Read(in[:])
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|sockCloexec, 0)
	if err != nil {
		return false
	}
	defer syscall.Close(fd)
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		return false
	}
	req := []byte(`{"v":1,"op":"get","cred":{"protocol":"https","host":"github.com"}}` + "\n")
	if _, err := syscall.Write(fd, req); err != nil {
		return false
	}
	var buf [1024]byte
	got := 0
	for got < len(buf) {
		n, err := syscall.Read(fd, buf[got:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return false
		}
		got += n
		if buf[got-1] == '\n' {
			return true
		}
	}
	return false
}
