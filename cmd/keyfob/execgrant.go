package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
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
	d, err := parseDuration(ttl)
	if err != nil || d < time.Second {
		return usageError{fmt.Sprintf("--ttl %q: want a duration such as 30m, 1h or 1d", ttl)}
	}
	spec := &client.GrantSpec{Label: label, URLs: urls, TTL: int64(d / time.Second), MaxUses: maxUses, Mode: client.GrantSocket}
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
	code, err := ghenv.RunEnv(argv, e.stdin, e.stdout, e.stderr, grantEnv(os.Environ(), g, helper))
	if err == nil && code != 0 {
		return exitError(code)
	}
	return err
}

// grantEnv returns env for a command running under grant g: the grant's
// socket in KEYFOB_SOCKET with autostart off and git's credential helper
// set through GIT_CONFIG_COUNT (an empty helper first, so no helper from
// the user's config sees the token), or the grant's file in GH_TOKEN_FILE.
// Tokens in the environment (GH_TOKEN and the like) are dropped.
func grantEnv(env []string, g client.GrantInfo, helper string) []string {
	drop := map[string]bool{"GH_TOKEN": true, "GITHUB_TOKEN": true, "GH_ENTERPRISE_TOKEN": true,
		"KEYFOB_SOCKET": true, "KEYFOB_AUTOSTART": true, "GH_TOKEN_FILE": true}
	count := 0
	out := make([]string, 0, len(env)+8)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "GIT_CONFIG_COUNT" {
			count, _ = strconv.Atoi(v)
			continue
		}
		if !drop[k] {
			out = append(out, kv)
		}
	}
	if g.Mode == client.GrantFile {
		return append(out, "GH_TOKEN_FILE="+g.Path)
	}
	out = append(out, "KEYFOB_SOCKET="+g.Path, "KEYFOB_AUTOSTART=0")
	for _, kv := range [][2]string{{"credential.helper", ""}, {"credential.helper", helper}, {"credential.useHttpPath", "true"}} {
		n := strconv.Itoa(count)
		out = append(out, "GIT_CONFIG_KEY_"+n+"="+kv[0], "GIT_CONFIG_VALUE_"+n+"="+kv[1])
		count++
	}
	return append(out, "GIT_CONFIG_COUNT="+strconv.Itoa(count))
}
