// Command floorsrv is the server side of the benchmark's Go floor: it
// listens on the Unix socket named by its argument and answers every
// request at once with a fixed answer the size of the agent's answer to a
// get (a JSON line, or git's lines to git-credential-keyfob's request), so
// what is left is the cost of a Go server's accept, read and write. It
// prints "ready" once it listens.
package main

import (
	"bufio"
	"bytes"
	"net"
	"os"
)

// The answers, in the wire's JSON and in git's terms (client/pump's
// framing), as the agent gives them.
const (
	answer    = `{"v":1,"username":"x-access-token","secret":"ghp_floor0000000000000000000000000000","token":"bench"}` + "\n"
	gitAnswer = "o username=x-access-token\no password=ghp_floor0000000000000000000000000000\nx 0\n"
)

func main() {
	if len(os.Args) != 2 {
		os.Stderr.WriteString("usage: floorsrv SOCKET\n")
		os.Exit(2)
	}
	os.Remove(os.Args[1])
	l, err := net.Listen("unix", os.Args[1])
	if err != nil {
		os.Stderr.WriteString("floorsrv: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("ready\n")
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				ans := answer
				if bytes.HasPrefix(line, []byte("git ")) {
					// git's lines follow, up to a blank one.
					for len(line) != 1 {
						if line, err = r.ReadSlice('\n'); err != nil {
							return
						}
					}
					ans = gitAnswer
				}
				if _, err := c.Write([]byte(ans)); err != nil {
					return
				}
			}
		}()
	}
}
