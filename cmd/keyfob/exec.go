package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/cliflag"
	"github.com/keyfob/keyfob/client/ghenv"
	"github.com/keyfob/keyfob/daemon/config"
)

func cmdExec(e *env, args []string) error {
	fs := newFlags("exec", e)
	var urls cliflag.List
	fs.Var(&urls, "url", "the repository whose token to use (default: the origin remote of the current repository); repeatable with --grant")
	name := fs.String("token", "", "the token to use, by name")
	grant := fs.Bool("grant", false, "run CMD with a grant of its own (socket, git configured through the environment) that ends when CMD does")
	ttl := fs.String("ttl", "1h", "--grant: how long the grant lives at most")
	maxUses := fs.Int("max-uses", 0, "--grant: hand out at most N tokens (0: no cap)")
	label := fs.String("label", "", "--grant: the grant's name")
	file := fs.Bool("file", false, "--grant: a token file in GH_TOKEN_FILE instead of a socket")
	fallback := fs.Bool("fallback", false, "when keyfob has no token for the repository (or no agent runs), run CMD untouched, with a one-line hint")
	if err := flagError(cliflag.Helped(fs, fs.Parse(args))); err != nil {
		return err
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
		if *fallback {
			return exited(ghenv.RunUntouched(argv, e.stdin, e.stdout, e.stderr, "no repository here"))
		}
		return err
	}
	resp, err := call(req)
	if err != nil {
		if why, ok := ghenv.NoToken(err); *fallback && ok {
			return exited(ghenv.RunUntouched(argv, e.stdin, e.stdout, e.stderr, why))
		}
		return err
	}
	printWarnings(e, resp)
	list := func() (*client.Response, error) { return call(&client.Request{Op: client.OpList}) }
	if url != "" || *name != "" {
		warnForeignOrigin(e, resp.Token, ghenv.AllowedHosts(resp.Token, list))
	}
	hosts := config.GitHubHosts(client.ConfigPath(), os.Getenv("KEYFOB_GITHUB_API"), os.Getenv("KEYFOB_GITHUB_URL"))
	env := ghenv.TokenEnv(os.Environ(), req, resp, list, hosts.IsEnterprise)
	return exited(ghenv.RunEnv(argv, e.stdin, e.stdout, e.stderr, env))
}

// warnForeignOrigin warns when a token given to a command for another
// repository than the checkout's carries the Enterprise variables, and
// the checkout's origin is on a host outside the token's allowlist: gh
// run here would send the token to that host.
func warnForeignOrigin(e *env, token string, allowed []string) {
	if !ghenv.Enterprise(allowed) {
		return
	}
	if host, ok := ghenv.ForeignOrigin(allowed); ok {
		fmt.Fprintf(e.stderr, "keyfob: warning: this checkout's origin is on %s, which token %s does not allow; gh run here may send the token there (run it outside this checkout, or with -R HOST/OWNER/REPO)\n", host, token)
	}
}

// execRequest is ghenv.Request, with what to do when there is no origin.
func execRequest(url, name string) (*client.Request, error) {
	req, err := ghenv.Request(url, name)
	if errors.Is(err, ghenv.ErrNoOrigin) {
		return nil, hinted{err, "run keyfob exec inside a git checkout with an origin remote, or pass --url URL or --token NAME"}
	}
	return req, err
}
