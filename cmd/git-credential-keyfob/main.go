// Command git-credential-keyfob is keyfob's git credential helper. git runs
// it on every fetch and push, so it is a byte pump (client/pump): it
// checks git's request, sends it to the agent and copies the answer back.
package main

import (
	"os"

	"github.com/keyfob/keyfob/client/pump"
)

func main() {
	os.Exit(pump.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
