// Package agentproc runs a real keyfob agent (keyfob serve) as a child
// process in a private home, for the benchmarks and the soak tests: it
// starts, kills and restarts it, and reads its CPU time and memory from
// /proc.
package agentproc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/keyfob/keyfob/client"
)

// Passphrase unlocks the file keyring of every agent this package starts.
// It guards throwaway test data only.
const Passphrase = "agentproc-file-passphrase"

// Agent is a keyfob serve process on the file backend.
type Agent struct {
	// Bin is the keyfob binary.
	Bin string
	// Home is the private home; state, keyring and audit log live under it.
	Home   string
	Socket string
	// Stderr collects the agent's debug log.
	Stderr bytes.Buffer

	cmd  *exec.Cmd
	done chan struct{}
}

// New prepares an agent in home (created if missing). Call Start.
func New(bin, home string) (*Agent, error) {
	run := filepath.Join(home, "run")
	if err := os.MkdirAll(run, 0o700); err != nil {
		return nil, err
	}
	return &Agent{Bin: bin, Home: home, Socket: filepath.Join(run, "keyfob", "agent.sock")}, nil
}

// StateDir is $XDG_STATE_HOME/keyfob of the agent.
func (a *Agent) StateDir() string { return filepath.Join(a.Home, "state", "keyfob") }

// AuditPath is the agent's audit log.
func (a *Agent) AuditPath() string { return filepath.Join(a.StateDir(), "audit.log") }

// KeyringDir is the file backend's directory.
func (a *Agent) KeyringDir() string { return filepath.Join(a.StateDir(), "keyring") }

// NoAPI is a GitHub API base that refuses at once (a closed port on
// loopback): tokens for github.com are stored unverified, without waiting
// on a DNS lookup of api.github.com that this machine cannot make.
const NoAPI = "http://127.0.0.1:1"

// Env is the environment for the agent and for clients that talk to it.
func (a *Agent) Env() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + a.Home,
		"XDG_RUNTIME_DIR=" + filepath.Join(a.Home, "run"),
		"XDG_STATE_HOME=" + filepath.Join(a.Home, "state"),
		"XDG_CONFIG_HOME=" + filepath.Join(a.Home, "config"),
		"KEYFOB_SOCKET=" + a.Socket,
		"KEYFOB_BACKEND=file",
		"DBUS_SESSION_BUS_ADDRESS=disabled:",
		// No GitHub here: a closed local port answers at once, where a
		// lookup of api.github.com can take the client's whole timeout.
		"KEYFOB_GITHUB_API=" + NoAPI,
	}
}

// Start runs keyfob serve and waits until it answers a ping.
func (a *Agent) Start() error {
	a.Stderr.Reset()
	cmd := exec.Command(a.Bin, "serve", "--log-level", "warn")
	cmd.Env = append(a.Env(), "KEYFOB_FILE_PASSPHRASE="+Passphrase)
	cmd.Stderr = &a.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	a.cmd, a.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(a.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Call(a.Socket, &client.Request{Op: client.OpPing})
		if err == nil && !resp.Status.Locked {
			return nil
		}
		select {
		case <-a.done:
			return fmt.Errorf("agent exited at start: %s", strings.TrimSpace(a.Stderr.String()))
		default:
		}
		if time.Now().After(deadline) {
			a.Kill()
			return fmt.Errorf("agent not ready after 10s (last: %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// PID is the running agent's process id.
func (a *Agent) PID() int { return a.cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to go.
func (a *Agent) Kill() {
	if a.cmd == nil {
		return
	}
	_ = a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	a.cmd = nil
}

// Stop sends SIGTERM and waits up to 10s, then kills.
func (a *Agent) Stop() error {
	if a.cmd == nil {
		return nil
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
		a.cmd = nil
		return nil
	case <-time.After(10 * time.Second):
		a.Kill()
		return errors.New("agent ignored SIGTERM for 10s")
	}
}

// Exited reports whether the process has ended.
func (a *Agent) Exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// Add stores a token named name for hosts, on a connection of its own.
func Add(socket, name string, secret client.Secret, hosts ...string) error {
	_, err := client.Call(socket, &client.Request{Op: client.OpAdd, Name: name,
		Meta: &client.TokenMeta{Hosts: hosts}, Secret: secret})
	return err
}

// CPUTime returns the user and system CPU time the process has used so far.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14, stime 15.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// Memory returns the process's resident set size now and its peak, in bytes.
func Memory(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			rss = n << 10
		} else {
			peak = n << 10
		}
	}
	return rss, peak, nil
}
