package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/keyfob/keyfob/client"
)

// forwarded are the signals keyfob exec passes on to its command. SIGINT
// from a terminal reaches both anyway; passing it again is harmless.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

func cmdExec(e *env, args []string) error {
	fs := newFlags("exec", e)
	var urls hostList
	fs.Var(&urls, "url", "the repository whose token to use (default: the origin remote of the current repository); repeatable with --grant")
	name := fs.String("token", "", "the token to use, by name")
	grant := fs.Bool("grant", false, "run CMD with a grant of its own (socket, git configured through the environment) that ends when CMD does")
	ttl := fs.String("ttl", "1h", "--grant: how long the grant lives at most")
	maxUses := fs.Int("max-uses", 0, "--grant: hand out at most N tokens (0: no cap)")
	label := fs.String("label", "", "--grant: the grant's name")
	file := fs.Bool("file", false, "--grant: a token file in GH_TOKEN_FILE instead of a socket")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return usageError{"exec needs a command after --"}
	}
	if *grant {
		if *name != "" {
			return usageError{"--grant takes --url, not --token: a grant names repositories"}
		}
		return execGrant(e, argv, urls, *ttl, *maxUses, *label, *file)
	}
	if *file || *label != "" || *maxUses != 0 {
		return usageError{"--file, --label and --max-uses go with --grant"}
	}
	if len(urls) > 1 {
		return usageError{"exec takes one --url (several go with --grant)"}
	}
	url := ""
	if len(urls) == 1 {
		url = urls[0]
	}
	if url != "" && *name != "" {
		return usageError{"--url and --token exclude each other"}
	}
	req, err := execRequest(url, *name)
	if err != nil {
		return err
	}
	resp, err := call(req)
	if err != nil {
		return err
	}
	printWarnings(e, resp)
	var hosts []string
	if req.Cred != nil {
		hosts = []string{req.Cred.Host}
	} else if l, err := call(&client.Request{Op: client.OpList}); err == nil {
		for _, t := range l.Tokens {
			if t.Name == resp.Token {
				hosts = t.Hosts
			}
		}
	}
	return runWithToken(e, argv, resp.Secret, enterprise(hosts))
}

// enterprise reports whether a token for hosts is for a GitHub other than
// github.com, which gh reads from GH_ENTERPRISE_TOKEN.
func enterprise(hosts []string) bool {
	for _, h := range hosts {
		if hn, _, err := net.SplitHostPort(h); err == nil {
			h = hn
		}
		if !strings.EqualFold(h, "github.com") {
			return true
		}
	}
	return false
}

// execRequest builds the token request: by name, by URL, or by the current
// repository's origin remote.
func execRequest(url, name string) (*client.Request, error) {
	if name != "" {
		return &client.Request{Op: client.OpToken, Name: name}, nil
	}
	if url == "" {
		out, err := exec.Command("git", "remote", "get-url", "origin").Output()
		if err != nil {
			return nil, hinted{fmt.Errorf("find the origin remote: %w", err),
				"run keyfob exec inside a git checkout with an origin remote, or pass --url URL or --token NAME"}
		}
		url = httpsRemote(strings.TrimSpace(string(out)))
	}
	cred, err := client.ParseRemote(url)
	if err != nil {
		return nil, err
	}
	return &client.Request{Op: client.OpToken, Cred: &cred}, nil
}

// httpsRemote maps an ssh remote (git@host:owner/repo.git or
// ssh://git@host/owner/repo.git) to the https URL of the same repository,
// so the API token follows the same routes as git would; other remotes are
// returned as they are.
func httpsRemote(r string) string {
	if rest, ok := strings.CutPrefix(r, "ssh://"); ok {
		if _, after, ok := strings.Cut(rest, "@"); ok {
			rest = after
		}
		host, path, _ := strings.Cut(rest, "/")
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h // the ssh port says nothing about https
		}
		return "https://" + host + "/" + path
	}
	if !strings.Contains(r, "://") {
		if at, colon := strings.Index(r, "@"), strings.Index(r, ":"); at >= 0 && colon > at {
			return "https://" + r[at+1:colon] + "/" + r[colon+1:]
		}
	}
	return r
}

// tokenEnv returns env with GH_TOKEN and GITHUB_TOKEN set to token, and
// GH_ENTERPRISE_TOKEN as well for a host other than github.com.
func tokenEnv(env []string, token client.Secret, enterprise bool) []string {
	vars := []string{"GH_TOKEN", "GITHUB_TOKEN"}
	if enterprise {
		vars = append(vars, "GH_ENTERPRISE_TOKEN")
	}
	out := make([]string, 0, len(env)+len(vars))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if k == "GH_TOKEN" || k == "GITHUB_TOKEN" || k == "GH_ENTERPRISE_TOKEN" {
			continue
		}
		out = append(out, kv)
	}
	for _, k := range vars {
		out = append(out, k+"="+token.Reveal())
	}
	return out
}

// runWithToken runs argv with the token in its environment, forwards
// signals to it, and passes its exit status back.
func runWithToken(e *env, argv []string, token client.Secret, enterprise bool) error {
	return runCmd(e, argv, tokenEnv(os.Environ(), token, enterprise))
}

// runCmd runs argv with env, forwards signals to it, and passes its exit
// status back.
func runCmd(e *env, argv, env []string) error {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("exec %s: %w", argv[0], err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
	cmd.Env = env
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("exec %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitError(128 + int(ws.Signal()))
		}
		return exitError(ee.ExitCode())
	default:
		return fmt.Errorf("exec %s: %w", argv[0], err)
	}
}
