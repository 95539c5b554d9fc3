// Command floorsrv is the server side of the benchmark's Go floor: it
// listens on the Unix socket named by its argument and answers every line
// at once with a fixed line the size of the agent's answer to a get, so
// what is left is the cost of a Go server's accept, read and write. It
// prints "ready" once it listens.
package main

import (
	"bufio"
	"net"
	"os"
)

const answer = `{"v":1,"username":"x-access-token","secret":"ghp_floor0000000000000000000000000000","token":"bench"}` + "\n"

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
				if _, err := r.ReadSlice('\n'); err != nil {
					return
				}
				if _, err := c.Write([]byte(answer)); err != nil {
					return
				}
			}
		}()
	}
}
