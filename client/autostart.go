package client

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client/pump"
)

// Helper autostart: when git asks for a credential and nothing answers on
// the socket, the helper starts the agent itself, unless KEYFOB_AUTOSTART
// turns that off or a service manager (systemd, launchd) is set up to run
// it. This runs only after a failed dial, so a running agent costs nothing.

// AutostartEnv names the variable that turns helper autostart off:
// KEYFOB_AUTOSTART=0 (or false, no, off). Autostart is on by default.
const AutostartEnv = pump.AutostartEnv

// LaunchdLabel is the label of keyfob's launchd agent on macOS.
const LaunchdLabel = "io.github.keyfob.agent"

// ErrManaged means a service manager is set up to run the agent, so the
// helper does not start one beside it.
var ErrManaged = errors.New("a service manager runs the keyfob agent")

// startTimeout bounds the wait for a started agent to answer.
const startTimeout = 10 * time.Second

// AutostartEnabled reports whether the helper may start the agent.
func AutostartEnabled() bool { return pump.AutostartEnabled() }

// StartAgent makes sure an agent answers at path, starting keyfob serve when
// none does. The started agent runs detached, in its own session, with its
// output in AgentLog. A lock file beside the socket lets one process at a
// time check and start, so many helpers at once start one agent; the others
// find it running. It returns ErrManaged when a systemd unit or launchd
// agent is set up to run the agent.
func StartAgent(path string) error {
	if ok, err := answers(path); ok || err != nil {
		return err
	}
	if managed(path) {
		return ErrManaged
	}
	dir := filepath.Dir(path)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create socket directory: %w", err)
	}
	if err := privateDir(dir); err != nil {
		return err
	}
	unlock, err := lockFile(filepath.Join(dir, "agent.lock"), startTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	if ok, err := answers(path); ok || err != nil {
		return err // another helper started it while we waited
	}
	exe, err := agentExe()
	if err != nil {
		return err
	}
	return spawn(exe, path)
}

// answers reports whether our agent accepts connections at path; it sends
// nothing. A socket that another uid serves, or a directory another uid
// could have made, is an *UntrustedError: nothing is started beside it.
func answers(path string) (bool, error) {
	c, err := dialTimeout(path, time.Second)
	var ue *UntrustedError
	switch {
	case errors.As(err, &ue):
		return false, err
	case err != nil:
		return false, nil
	}
	c.Close()
	return true, nil
}

// privateDir refuses a socket directory that others could use to plant a
// lock file or socket: it must be ours, and mode 0700.
func privateDir(dir string) error {
	err := CheckPrivateDir(dir)
	var de *DirError
	if err != nil && !errors.As(err, &de) {
		return fmt.Errorf("socket directory: %w", err)
	}
	return untrustedDir(dir, err)
}

// agentExe finds keyfob: beside this executable first (an install puts
// the helper and keyfob in one directory), then on PATH.
func agentExe() (string, error) {
	p, err := pump.KeyfobExe()
	if err != nil {
		return "", fmt.Errorf("find keyfob to start the agent: %w", err)
	}
	return p, nil
}

// spawn starts exe serve detached and waits until path answers or the
// agent exits.
func spawn(exe, path string) error {
	logPath := AgentLog()
	if err := os.MkdirAll(filepath.Dir(logPath), 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open agent log: %w", err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "keyfob: %s: the git helper (keyfob git-credential, pid %d) starts %s serve\n",
		time.Now().UTC().Format(time.RFC3339), os.Getpid(), exe)
	cmd := exec.Command(exe, "serve")
	cmd.Dir = "/"
	cmd.Env = agentEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s serve: %w", exe, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		if ok, err := answers(path); ok || err != nil {
			return err
		}
		select {
		case err := <-exited:
			if ok, aerr := answers(path); ok || aerr != nil {
				return aerr // it lost a race to another agent that now answers
			}
			return fmt.Errorf("keyfob serve exited (%v); its log is %s", err, logPath)
		case <-deadline.C:
			return fmt.Errorf("keyfob serve (pid %d) did not answer within %s; its log is %s", cmd.Process.Pid, startTimeout, logPath)
		case <-time.After(wait):
		}
	}
}

// agentEnv is the helper's environment without git's per-repository
// variables, which mean nothing to a long-lived agent, and without the
// service manager variables of whatever runs git: the agent must not tell
// that service's manager it is ready or stopping.
func agentEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "GIT_"), strings.HasPrefix(name, "LISTEN_"), strings.HasPrefix(name, "WATCHDOG_"),
			name == "NOTIFY_SOCKET", name == "JOURNAL_STREAM":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// managed reports whether a service manager is set up to run the agent on
// path: an enabled keyfob.socket in a running systemd user instance, for
// the socket path the unit listens on, or keyfob's launchd agent on macOS.
func managed(path string) bool {
	if runtime.GOOS == "darwin" {
		p, err := launchAgentPlist()
		return err == nil && exists(p)
	}
	private := systemdPrivate()
	if private == "" || path != defaultSocketPath() || !exists(private) {
		return false
	}
	for _, d := range systemdUnitDirs() {
		if exists(filepath.Join(d, "sockets.target.wants", "keyfob.socket")) {
			return true
		}
	}
	return false
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// managedHint says how to look at the service manager's view of the agent.
func managedHint() string {
	if runtime.GOOS == "darwin" {
		return fmt.Sprintf("launchctl print gui/%d/%s", os.Getuid(), LaunchdLabel)
	}
	return "systemctl --user status keyfob.socket keyfob.service"
}
