// Command demo shows keyfob's main job end to end on the embedded default:
// the agent on the file backend in a throwaway home, a token added once,
// and git cloning from a local git server through git-credential-keyfob.
// Run it with make demo.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/cmd/keyfob/internal/gitserver"
)

// demoToken looks like a GitHub token; the local git server accepts it.
const demoToken = "ghp_demo0000000000000000000000000Kf0b"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: demo BINDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "demo: error: %v\n", err)
		os.Exit(1)
	}
}

func run(binDir string) error {
	bin, err := filepath.Abs(binDir)
	if err != nil {
		return err
	}
	home, err := os.MkdirTemp("", "keyfob-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	runDir := filepath.Join(home, "run")
	if err := os.Mkdir(runDir, 0o700); err != nil {
		return err
	}
	env := []string{
		"PATH=" + bin + ":" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_RUNTIME_DIR=" + runDir,
		"XDG_STATE_HOME=" + filepath.Join(home, ".local/state"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"KEYFOB_BACKEND=file",
		"KEYFOB_AUTOSTART=0",
		"DBUS_SESSION_BUS_ADDRESS=disabled:",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + filepath.Join(home, ".gitconfig"),
		"GIT_TERMINAL_PROMPT=0",
	}

	say("a local git server: git-http-backend behind basic auth on 127.0.0.1")
	srv, err := gitserver.Start(filepath.Join(home, "git"))
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.CreateRepo("acme", "app"); err != nil {
		return err
	}
	srv.Allow("acme", demoToken)
	host := strings.TrimPrefix(srv.URL, "http://")
	fmt.Printf("   %s/acme/app.git accepts one token\n", srv.URL)

	say("start the agent (file backend, throwaway home %s)", home)
	agent := exec.Command(filepath.Join(bin, "keyfob"), "serve")
	// Headless only: the passphrase comes from the environment here; on a
	// desktop, keyfob unlock asks for it once.
	agent.Env = append(env, "KEYFOB_FILE_PASSPHRASE=demo passphrase")
	logf, err := os.Create(filepath.Join(home, "agent.log"))
	if err != nil {
		return err
	}
	agent.Stdout, agent.Stderr = logf, logf
	if err := agent.Start(); err != nil {
		return err
	}
	defer func() {
		agent.Process.Signal(syscall.SIGTERM)
		agent.Wait()
	}()
	sock := filepath.Join(runDir, "keyfob", "agent.sock")
	if err := waitAgent(sock); err != nil {
		return err
	}
	fmt.Printf("   listening on %s\n", sock)

	steps := []struct {
		shown string
		args  []string
		stdin string
	}{
		{"printf %s \"$TOKEN\" | keyfob add acme --host " + host, []string{"keyfob", "add", "acme", "--host", host}, demoToken + "\n"},
		{"git config --global credential.helper " + filepath.Join(bin, "git-credential-keyfob"), []string{"git", "config", "--global", "credential.helper", filepath.Join(bin, "git-credential-keyfob")}, ""},
		{"git config --global credential.useHttpPath true", []string{"git", "config", "--global", "credential.useHttpPath", "true"}, ""},
		{"git clone " + srv.RepoURL("acme", "app"), []string{"git", "clone", srv.RepoURL("acme", "app"), filepath.Join(home, "app")}, ""},
		{"git -C app log --oneline", []string{"git", "-C", filepath.Join(home, "app"), "log", "--oneline"}, ""},
		{"keyfob status", []string{"keyfob", "status"}, ""},
	}
	for _, s := range steps {
		say("%s", s.shown)
		name := s.args[0]
		if name == "keyfob" {
			name = filepath.Join(bin, name)
		}
		cmd := exec.Command(name, s.args[1:]...)
		out := indent{mid: new(bool)}
		cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
		if s.stdin != "" {
			cmd.Stdin = strings.NewReader(s.stdin)
		}
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", s.shown, err)
		}
	}

	say("the audit lines for that clone (keyfob audit)")
	f, err := os.Open(filepath.Join(home, ".local/state/keyfob/audit.log"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"op":"get"`) || strings.Contains(sc.Text(), `"op":"store"`) {
			fmt.Println("   " + sc.Text())
		}
	}
	say("done: git got the token from the agent; no plaintext credential file was written")
	return checkNoPlaintext(home)
}

func say(format string, args ...any) { fmt.Printf("\n== "+format+"\n", args...) }

// indent prefixes every line a command prints, however its writes split
// the lines.
type indent struct{ mid *bool }

func (w indent) Write(p []byte) (int, error) {
	for _, l := range strings.SplitAfter(string(p), "\n") {
		if l == "" {
			continue
		}
		if !*w.mid {
			fmt.Print("   ")
		}
		fmt.Print(l)
		*w.mid = !strings.HasSuffix(l, "\n")
	}
	return len(p), nil
}

func waitAgent(sock string) error {
	for i := 0; i < 200; i++ {
		if _, err := client.Call(sock, &client.Request{Op: client.OpPing}); err == nil {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("agent did not answer on %s", sock)
}

// checkNoPlaintext proves the token is nowhere on disk in the clear.
func checkNoPlaintext(home string) error {
	return filepath.Walk(home, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || strings.Contains(p, string(filepath.Separator)+"git"+string(filepath.Separator)) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), demoToken) {
			return fmt.Errorf("token found in plaintext in %s", p)
		}
		return nil
	})
}
