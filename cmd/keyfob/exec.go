package main

import (
	"errors"
	"flag"
	"fmt"
	"os/exec"
	"strings"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/ghenv"
)

func cmdExec(e *env, args []string) error {
	fs := newFlags("exec", e)
	url := fs.String("url", "", "the repository whose token to use (default: the origin remote of the current repository)")
	name := fs.String("token", "", "the token to use, by name")
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
	if *url != "" && *name != "" {
		return usageError{"--url and --token exclude each other"}
	}
	req, err := execRequest(*url, *name)
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
	code, err := ghenv.Run(argv, e.stdin, e.stdout, e.stderr, resp.Secret, ghenv.Enterprise(hosts))
	if err == nil && code != 0 {
		return exitError(code)
	}
	return err
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
		url = client.HTTPSRemote(strings.TrimSpace(string(out)))
	}
	cred, err := client.ParseRemote(url)
	if err != nil {
		return nil, err
	}
	return &client.Request{Op: client.OpToken, Cred: &cred}, nil
}
