package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
)

// goFloor names the Go floor's rows.
const goFloor = "Go floor"

// floorPID and floorSocket are the Go floor server's, for its load rows.
var (
	floorPID    int
	floorSocket string
)

// startFloorServer starts bench/floorsrv on sock and waits until it
// listens.
func startFloorServer(bin, sock string) (*exec.Cmd, error) {
	cmd := exec.Command(bin, sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start floorsrv: %w", err)
	}
	line := make([]byte, 6)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("floorsrv did not start: %v", err)
	}
	return cmd, nil
}
