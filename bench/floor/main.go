// Command floor is the benchmark's floor: a static Go program that does
// nothing a credential helper needs beyond starting. Given "get" it prints a
// fixed, fake credential, so that git credential fill through it has a floor
// too.
package main

import "os"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "get" {
		os.Stdout.WriteString("username=floor\npassword=floor-not-a-secret\n")
	}
}
