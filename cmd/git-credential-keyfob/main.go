// Command git-credential-keyfob is keyfob's git credential helper. git runs
// it on every fetch and push, so it imports only the standard library and
// keyfob's client package.
package main

import (
	"os"

	"github.com/keyfob/keyfob/client"
)

func main() {
	os.Exit(client.GitHelper(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
