package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/view"
	"github.com/keyfob/keyfob/daemon/passphrase"
)

func call(req *client.Request) (*client.Response, error) { return callFor(req, client.DefaultTimeout) }

// callFor is call with a longer bound, for requests the agent answers
// after a call to GitHub (keyfob login).
func callFor(req *client.Request, timeout time.Duration) (*client.Response, error) {
	path := client.SocketPath()
	var resp *client.Response
	c, err := client.Dial(path)
	if err == nil {
		c.Timeout = timeout
		resp, err = c.Do(req)
		c.Close()
	}
	if hint, err := client.Explain(path, req.Op, err); hint != "" {
		return nil, hinted{err, hint}
	}
	return resp, err
}

func cmdUnlock(e *env, args []string) error {
	fs := newFlags("unlock", e)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := call(&client.Request{Op: client.OpStatus})
	if err != nil {
		return err
	}
	req := &client.Request{Op: client.OpUnlock}
	if st.Status.NeedsPass {
		var p client.Secret
		if st.Status.NewKeyring {
			fmt.Fprintln(e.stderr, "keyfob: creating a new keyring (file backend): choose its passphrase")
			p, err = passphrase.ReadNew(e.stdin, e.stderr)
		} else if p, err = passphrase.Read(e.stdin, e.stderr, "keyfob passphrase: "); err == nil && p.IsZero() {
			err = passphrase.ErrEmpty
		}
		if errors.Is(err, passphrase.ErrDiffer) {
			return hinted{err, "run keyfob unlock again"}
		} else if err != nil {
			return err
		}
		req.Secret = p
	}
	resp, err := call(req)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "unlocked: %d tokens (%s backend)\n", resp.Status.Tokens, resp.Status.Backend)
	return nil
}

func cmdLock(e *env, args []string) error {
	if _, err := parseFlags(newFlags("lock", e), args); err != nil {
		return err
	}
	_, err := call(&client.Request{Op: client.OpLock})
	if err == nil {
		fmt.Fprintln(e.stdout, "locked: every secret dropped from memory")
	}
	return err
}
func cmdWhich(e *env, args []string) error {
	arg, err := oneArg(e, "which", args, "which takes exactly one URL")
	if err != nil {
		return err
	}
	cred, err := client.ParseRemote(arg)
	if err != nil {
		return err
	}
	resp, err := call(&client.Request{Op: client.OpWhich, Cred: &cred})
	if err != nil {
		return err
	}
	view.Which(e.stdout, resp)
	return nil
}

func cmdToken(e *env, args []string) error {
	arg, err := oneArg(e, "token", args, "token takes exactly one URL or NAME")
	if err != nil {
		return err
	}
	req, err := client.TokenRequest(arg)
	if err != nil {
		return err
	}
	resp, err := call(req)
	if err != nil {
		return err
	}
	printWarnings(e, resp)
	fmt.Fprintln(e.stdout, resp.Secret.Reveal())
	return nil
}

func cmdVersion(e *env, args []string) error {
	if _, err := parseFlags(newFlags("version", e), args); err != nil {
		return err
	}
	v, rev := client.BuildVersion(version, revision)
	fmt.Fprintf(e.stdout, "keyfob %s (revision %s, protocol %d)\n", v, rev, client.Version)
	return nil
}

// version and revision are stamped by make build (-ldflags -X); a go build
// without them falls back on what the toolchain recorded.
var version, revision = "", ""

func printWarnings(e *env, resp *client.Response) {
	for _, w := range resp.Warnings {
		fmt.Fprintf(e.stderr, "keyfob: warning: %s\n", w)
	}
}
