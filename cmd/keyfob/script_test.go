package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/pump"
	"github.com/keyfob/keyfob/cmd/keyfob/internal/gitserver"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(squatEnv) != "" {
		os.Exit(squat()) // squat_test.go: a listener of another uid
	}
	// No GitHub here: agents these tests start get an API base that
	// refuses at once, not a DNS lookup of api.github.com that can hang.
	if os.Getenv("KEYFOB_GITHUB_API") == "" {
		os.Setenv("KEYFOB_GITHUB_API", noAPI)
	}
	testscript.Main(m, map[string]func(){
		"keyfob": func() {
			if point := os.Getenv(faultEnv); point != "" {
				wrapKeychain = crashingKeychain(point)
			}
			os.Exit(run())
		},
		"git-credential-keyfob": func() {
			os.Exit(pump.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// noAPI is a GitHub API base that refuses at once (a closed port).
const noAPI = "http://127.0.0.1:1"

// TestScripts runs testdata/script/*.txtar: the CLI, the agent in the
// background and real git against git-http-backend, as shell sessions.
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams("testdata/script"))
}

func scriptParams(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			run := filepath.Join(e.WorkDir, "run")
			if err := os.Mkdir(run, 0o700); err != nil {
				return err
			}
			home := filepath.Join(e.WorkDir, "home")
			for k, v := range map[string]string{
				"HOME":                     home,
				"XDG_RUNTIME_DIR":          run,
				"XDG_STATE_HOME":           filepath.Join(home, ".local/state"),
				"XDG_CONFIG_HOME":          filepath.Join(home, ".config"),
				"KEYFOB_SOCKET":            "",
				"KEYFOB_CONFIG":            "",
				"KEYFOB_BACKEND":           "file",
				"KEYFOB_FILE_PASSPHRASE":   "correct horse battery staple",
				"KEYFOB_AUTOSTART":         "0",   // scripts start the agent; session_test.go tests autostart
				"KEYFOB_GITHUB_API":        noAPI, // scripts with a fake API set their own
				"DBUS_SESSION_BUS_ADDRESS": "disabled:",
				"GIT_CONFIG_NOSYSTEM":      "1",
				"GIT_CONFIG_GLOBAL":        filepath.Join(home, ".gitconfig"),
				"GIT_TERMINAL_PROMPT":      "0",
				"GIT_AUTHOR_NAME":          "keyfob test",
				"GIT_AUTHOR_EMAIL":         "test@localhost",
				"GIT_COMMITTER_NAME":       "keyfob test",
				"GIT_COMMITTER_EMAIL":      "test@localhost",
				"AUDIT":                    filepath.Join(home, ".local/state/keyfob/audit.log"),
			} {
				e.Setenv(k, v)
			}
			e.Values["state"] = &scriptState{}
			return os.MkdirAll(home, 0o700)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"gitserver": cmdGitServer,
			"waitagent": cmdWaitAgent,
			"nocanary":  cmdNoCanary,
			"waitstate": cmdWaitState,
			"githubapi": cmdGitHubAPI,
			"expand":    cmdExpand,
		},
	}
}

// scriptState is what custom commands keep between lines of one script.
type scriptState struct {
	git *gitserver.Server
	api *githubtest.Server
}

// gitserver start | repo OWNER NAME | allow OWNER TOKEN | revoke OWNER
func cmdGitServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: gitserver start|repo|allow|revoke")
	}
	st := ts.Value("state").(*scriptState)
	srv := st.git
	if args[0] != "start" && srv == nil {
		ts.Fatalf("gitserver: not started")
	}
	switch args[0] {
	case "start":
		root := ts.MkAbs("gitroot")
		ts.Check(os.MkdirAll(root, 0o755))
		s, err := gitserver.Start(root)
		ts.Check(err)
		ts.Defer(func() { s.Close() })
		ts.Setenv("GITURL", s.URL)
		ts.Setenv("GITHOST", strings.TrimPrefix(s.URL, "http://"))
		st.git = s
	case "repo":
		ts.Check(srv.CreateRepo(args[1], args[2]))
	case "allow":
		srv.Allow(args[1], args[2])
	case "revoke":
		srv.Revoke(args[1])
	default:
		ts.Fatalf("gitserver: unknown subcommand %q", args[0])
	}
}

// waitagent waits up to 10s until the agent answers on its socket.
func cmdWaitAgent(ts *testscript.TestScript, neg bool, args []string) {
	path := filepath.Join(ts.Getenv("XDG_RUNTIME_DIR"), "keyfob", "agent.sock")
	if s := ts.Getenv("KEYFOB_SOCKET"); s != "" {
		path = s
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := client.Dial(path)
		if err == nil {
			_, err = c.Do(&client.Request{Op: client.OpPing})
			c.Close()
			if err == nil {
				if neg {
					ts.Fatalf("agent answers at %s", path)
				}
				return
			}
		}
		if neg {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("agent did not answer at %s within 10s", path)
}

// nocanary CANARY FILE... fails if any file contains the canary; a
// directory is searched recursively.
func cmdNoCanary(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nocanary CANARY FILE...")
	}
	canary := []byte(args[0])
	for _, f := range args[1:] {
		root := ts.MkAbs(f)
		err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if bytes.Contains(b, canary) {
				ts.Fatalf("canary token found in %s", p)
			}
			return nil
		})
		ts.Check(err)
	}
}

// waitstate NAME STATE waits up to 10s until keyfob list shows token NAME
// in STATE (background re-validation changes it).
func cmdWaitState(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitstate NAME STATE")
	}
	path := filepath.Join(ts.Getenv("XDG_RUNTIME_DIR"), "keyfob", "agent.sock")
	last := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := client.Call(path, &client.Request{Op: client.OpList})
		if err != nil {
			ts.Fatalf("list: %v", err)
		}
		for _, t := range resp.Tokens {
			if t.Name == args[0] {
				if last = t.State; last == args[1] {
					return
				}
			}
		}
	}
	ts.Fatalf("token %s is %q, not %q, after 10s", args[0], last, args[1])
}
