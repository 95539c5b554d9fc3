package main

import (
	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/ghenv"
	"github.com/keyfob/keyfob/daemon/setup"
)

// execGrant runs argv with a grant of its own (ghenv.RunGrant): a socket
// (or, with file, a token file) for urls that ends when argv does.
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
	return exited(ghenv.RunGrant(call, spec, helper, argv, e.stdin, e.stdout, e.stderr))
}
