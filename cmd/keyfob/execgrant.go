package main

import (
	"fmt"
	"os"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/ghenv"
	"github.com/keyfob/keyfob/daemon/setup"
)

// execGrant runs argv with a grant of its own: a socket (or, with file, a
// token file) for urls that ends when argv does. git inside is configured
// through the environment only, so the user's git config is not touched,
// and no long-lived token is put in the environment.
func execGrant(e *env, argv, urls []string, ttl string, maxUses int, label string, file bool) error {
	helper, err := setup.HelperPath()
	if err != nil {
		return hinted{err, "install it beside keyfob or on PATH (make install)"}
	}
	if len(urls) == 0 {
		req, err := execRequest("", "")
		if err != nil {
			return err
		}
		c := req.Cred
		urls = []string{c.Protocol + "://" + c.Host + "/" + c.Path}
	}
	secs, err := parseTTL(ttl)
	if err != nil {
		return err
	}
	spec := &client.GrantSpec{Label: label, URLs: urls, TTL: secs, MaxUses: maxUses, Mode: client.GrantSocket}
	if file {
		spec.Mode = client.GrantFile
	}
	resp, err := call(&client.Request{Op: client.OpGrant, Grant: spec})
	if err != nil {
		return err
	}
	g := resp.Grants[0]
	// The grant ends with the command, however it ends: keyfob exec
	// forwards signals and waits, then revokes.
	defer func() {
		if _, err := call(&client.Request{Op: client.OpRevoke, Name: g.Label}); err != nil && !client.IsCode(err, client.CodeNotFound) {
			fmt.Fprintf(e.stderr, "keyfob: warning: revoke grant %s: %v; it ends at %s anyway\n", g.Label, err, g.Expires.UTC().Format(time.DateTime+" MST"))
		}
	}()
	// HelperPath quotes the path for git, which runs it through the shell.
	code, err := ghenv.RunEnv(argv, e.stdin, e.stdout, e.stderr, ghenv.GrantEnv(os.Environ(), g, helper))
	if err == nil && code != 0 {
		return exitError(code)
	}
	return err
}
