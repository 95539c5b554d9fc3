// Package ghenv hands a GitHub token to a command the way gh and other
// GitHub tools read one: GH_TOKEN and GITHUB_TOKEN, and GH_ENTERPRISE_TOKEN
// and GITHUB_ENTERPRISE_TOKEN as well for a host other than github.com
// (with GH_HOST naming the host, as gh asks, when it is known). Run runs the command with it,
// passes signals on, and returns the command's exit status. It uses the
// standard library only.
package ghenv

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/keyfob/keyfob/client"
)

// forwarded are the signals Run passes on to its command. SIGINT from a
// terminal reaches both anyway; passing it again is harmless.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// Enterprise reports whether a token for hosts is for a GitHub other than
// github.com, which gh reads from GH_ENTERPRISE_TOKEN.
func Enterprise(hosts []string) bool {
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

// Env returns env with GH_TOKEN and GITHUB_TOKEN set to token, and
// GH_ENTERPRISE_TOKEN and GITHUB_ENTERPRISE_TOKEN as well when enterprise
// is set; values env had for them are dropped.
func Env(env []string, token client.Secret, enterprise bool) []string {
	vars := []string{"GH_TOKEN", "GITHUB_TOKEN"}
	if enterprise {
		vars = append(vars, "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
	}
	out := make([]string, 0, len(env)+len(vars))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if k == "GH_TOKEN" || k == "GITHUB_TOKEN" || k == "GH_ENTERPRISE_TOKEN" || k == "GITHUB_ENTERPRISE_TOKEN" {
			continue
		}
		out = append(out, kv)
	}
	for _, k := range vars {
		out = append(out, k+"="+token.Reveal())
	}
	return out
}

// WithHost returns env with GH_HOST set to host, the GitHub gh talks to
// outside a checkout of one of its repositories (an Enterprise host's
// token is read from GH_ENTERPRISE_TOKEN for it); GH_HOST's old value is
// dropped.
func WithHost(env []string, host string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != "GH_HOST" {
			out = append(out, kv)
		}
	}
	return append(out, "GH_HOST="+host)
}

// Run runs argv with the token in its environment (Env over this
// process's), forwards signals to it, and returns its exit status: 128
// plus the signal's number when a signal ended it.
func Run(argv []string, stdin io.Reader, stdout, stderr io.Writer, token client.Secret, enterprise bool) (int, error) {
	return RunEnv(argv, stdin, stdout, stderr, Env(os.Environ(), token, enterprise))
}

// RunEnv is Run with the whole environment given: keyfob exec --grant
// runs its command with a grant's variables and no token.
func RunEnv(argv []string, stdin io.Reader, stdout, stderr io.Writer, env []string) (int, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 0, fmt.Errorf("exec %s: %w", argv[0], err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Env = env
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("exec %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	forwarding := make(chan struct{})
	go func() {
		defer close(forwarding)
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
	<-forwarding
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	default:
		return 0, fmt.Errorf("exec %s: %w", argv[0], err)
	}
}

// TokenEnv returns env for a command given the token resp answered req
// with (Env): the Enterprise variables too when the token's hosts (Hosts,
// with list) are not github.com, and GH_HOST when req names a host that
// isEnterprise says is an Enterprise one.
func TokenEnv(env []string, req *client.Request, resp *client.Response, list func() (*client.Response, error), isEnterprise func(host string) bool) []string {
	env = Env(env, resp.Secret, Enterprise(Hosts(req, resp.Token, list)))
	if req.Cred != nil && isEnterprise(req.Cred.Host) {
		env = WithHost(env, req.Cred.Host) // gh reads GH_ENTERPRISE_TOKEN for GH_HOST
	}
	return env
}
