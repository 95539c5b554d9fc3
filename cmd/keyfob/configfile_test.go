package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
)

// A FIFO where the config file should be must not hang the agent, at start
// or on reload. At start the agent serves with no routes and shows why, as
// it does for a file that does not parse; on reload the routes in force
// stay, status shows why, and SIGTERM still stops the agent.
func TestServeConfigFIFO(t *testing.T) {
	bin := buildBinaries(t, "-s -w")
	keyfob := filepath.Join(bin, "keyfob")
	s := newSession(t)
	dir := filepath.Join(s.home, ".config", "keyfob")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.toml")
	// putFIFO makes a FIFO and renames it over the config, as an editor
	// saves a file.
	putFIFO := func() {
		t.Helper()
		tmp := filepath.Join(dir, ".config.toml.fifo")
		if err := syscall.Mkfifo(tmp, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	putFIFO()

	logf, err := os.Create(filepath.Join(t.TempDir(), "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	agentLog := func() string { b, _ := os.ReadFile(logf.Name()); return string(b) }
	agent := exec.Command(keyfob, "serve")
	agent.Env, agent.Stdout, agent.Stderr = s.env, logf, logf
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- agent.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			agent.Process.Kill()
			<-exited
		}
	})

	fifoErr := "config " + path + ": not a regular file (a FIFO); replace it with a regular file or point KEYFOB_CONFIG at one"
	// waitConfig polls status until cond holds, for at most 15s.
	waitConfig := func(what string, cond func(*client.Status) bool) {
		t.Helper()
		var st *client.Status
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if st = waitAnswer(t, s.sock); cond(st) {
				return
			}
		}
		t.Fatalf("after 15s, status config error = %q, want %s\n%s", st.ConfigErr, what, agentLog())
	}
	keyfobOut := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(keyfob, args...)
		cmd.Env = s.env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("keyfob %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// At start: serving, no routes, the FIFO named in status.
	waitConfig("the FIFO", func(st *client.Status) bool { return st.ConfigErr == fifoErr })
	add := exec.Command(keyfob, "add", "acme", "--host", "git.example.com")
	add.Env = s.env
	add.Stdin = strings.NewReader("ghp_configFIFO00000000000000000000wxyz\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("keyfob add: %v\n%s", err, out)
	}
	url := "https://git.example.com/acme/app"
	if out := keyfobOut("which", url); !strings.Contains(out, "token:  acme\nroute:  none") {
		t.Fatalf("keyfob which %s with the FIFO at start:\n%s\nwant no route", url, out)
	}

	// A good config replaces the FIFO: its route is in force.
	tmp := filepath.Join(dir, ".config.toml.new")
	if err := os.WriteFile(tmp, []byte("[[route]]\nmatch = \"git.example.com/acme/*\"\ntoken = \"acme\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitConfig("none", func(st *client.Status) bool { return st.ConfigErr == "" })
	wantRoute := "token:  acme\nroute:  git.example.com/acme/* (" + path + ":1)\n"
	if out := keyfobOut("which", url); !strings.Contains(out, wantRoute) {
		t.Fatalf("keyfob which %s:\n%s\nwant %q", url, out, wantRoute)
	}

	// A FIFO renamed over it, seen by the watcher, then SIGHUP: the route
	// stays, and status and which say so.
	putFIFO()
	waitConfig("the FIFO", func(st *client.Status) bool { return st.ConfigErr == fifoErr })
	if err := agent.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitConfig("the FIFO", func(st *client.Status) bool { return st.ConfigErr == fifoErr })
	if out := keyfobOut("status"); !strings.Contains(out, "config error (previous config kept): "+fifoErr+"\n") {
		t.Errorf("keyfob status:\n%s\nwant the config error %q", out, fifoErr)
	}
	if out := keyfobOut("which", url); !strings.Contains(out, wantRoute) {
		t.Errorf("keyfob which %s after the FIFO:\n%s\nwant the previous route %q", url, out, wantRoute)
	}

	if err := agent.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("agent exited with %v after SIGTERM\n%s", err, agentLog())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("agent did not exit within 15s of SIGTERM\n%s", agentLog())
	}
	if log := agentLog(); !strings.Contains(log, "config refused; the previous config stays in force") {
		t.Errorf("agent log has no refusal:\n%s", log)
	}
}
