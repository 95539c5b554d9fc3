package main

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/keyfob/keyfob/client"
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
	var ae *client.Error
	var ue *client.UntrustedError
	var oe *net.OpError
	switch {
	case err == nil, errors.As(err, &ae):
		return resp, err
	case errors.As(err, &ue):
		// One line that says what to do; nothing was sent.
		return nil, err
	case errors.As(err, &oe) && oe.Op == "dial":
		return nil, hinted{fmt.Errorf("agent not running at %s: %w", path, err),
			"start it with: keyfob serve (or systemctl --user start keyfob.socket)"}
	default:
		return nil, hinted{fmt.Errorf("agent at %s closed the connection during %s: %w", path, req.Op, err),
			"check that it is still running (keyfob status) and look at its log"}
	}
}

// readSecret reads a secret from the terminal without echo, or from stdin
// when stdin is not a terminal. Secrets never come from argv.
func readSecret(e *env, prompt string) (client.Secret, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return client.Secret{}, fmt.Errorf("read from terminal: %w", err)
		}
		defer clear(b)
		return client.NewSecret(strings.TrimSpace(string(b))), nil
	}
	// Several secrets from one stdin (a new passphrase, then again) share
	// one reader, or the first would buffer the second away.
	r, ok := e.stdin.(*bufio.Reader)
	if !ok {
		r = bufio.NewReader(io.LimitReader(e.stdin, client.MaxMessage/2))
	}
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return client.Secret{}, fmt.Errorf("read stdin: %w", err)
	}
	return client.NewSecret(strings.TrimRight(line, "\r\n")), nil
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
		prompt := "keyfob passphrase: "
		if st.Status.NewKeyring {
			fmt.Fprintln(e.stderr, "keyfob: creating a new keyring (file backend): choose its passphrase")
			prompt = "new keyfob passphrase: "
			if f, ok := e.stdin.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
				in := *e
				in.stdin = bufio.NewReader(io.LimitReader(e.stdin, client.MaxMessage))
				e = &in
			}
		}
		p, err := readSecret(e, prompt)
		if err != nil {
			return err
		}
		if p.IsZero() {
			return errors.New("empty passphrase")
		}
		if st.Status.NewKeyring {
			again, err := readSecret(e, "the same passphrase again: ")
			if err != nil {
				p.Wipe()
				return err
			}
			same := p.Equal(again)
			again.Wipe()
			if !same {
				p.Wipe()
				return hinted{errors.New("the two passphrases differ; nothing was created"), "run keyfob unlock again"}
			}
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
	pos, err := parseFlags(newFlags("which", e), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"which takes exactly one URL"}
	}
	cred, err := client.ParseRemote(pos[0])
	if err != nil {
		return err
	}
	resp, err := call(&client.Request{Op: client.OpWhich, Cred: &cred})
	if err != nil {
		return err
	}
	printWhich(e.stdout, resp)
	return nil
}

// tokenRequest turns URL|NAME into a request: anything with "/" or "://"
// is a URL, anything else a token name.
func tokenRequest(arg string) (*client.Request, error) {
	if strings.Contains(arg, "/") || strings.Contains(arg, "://") {
		cred, err := client.ParseRemote(arg)
		if err != nil {
			return nil, err
		}
		return &client.Request{Op: client.OpToken, Cred: &cred}, nil
	}
	return &client.Request{Op: client.OpToken, Name: arg}, nil
}

func cmdToken(e *env, args []string) error {
	pos, err := parseFlags(newFlags("token", e), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"token takes exactly one URL or NAME"}
	}
	req, err := tokenRequest(pos[0])
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
	v, rev := buildVersion()
	fmt.Fprintf(e.stdout, "keyfob %s (revision %s, protocol %d)\n", v, rev, client.Version)
	return nil
}

// version and revision are stamped by make build (-ldflags -X); a go build
// without them falls back on what the toolchain recorded.
var version, revision = "", ""

// buildVersion returns the module version and the VCS revision keyfob was
// built from: the stamped ones, else Go's build info, else "dev" and
// "unknown".
func buildVersion() (string, string) {
	v, rev := version, revision
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && rev == "" {
				rev = s.Value
			}
		}
	}
	return cmp.Or(v, "dev"), cmp.Or(rev, "unknown")
}

func printWarnings(e *env, resp *client.Response) {
	for _, w := range resp.Warnings {
		fmt.Fprintf(e.stderr, "keyfob: warning: %s\n", w)
	}
}
