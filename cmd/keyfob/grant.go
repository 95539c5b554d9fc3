package main

import (
	"fmt"
	"path/filepath"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/cliflag"
	"github.com/keyfob/keyfob/client/view"
)

func cmdGrant(e *env, args []string) error {
	fs := newFlags("grant", e)
	var urls cliflag.List
	var uids cliflag.UIDs
	var sock, file cliflag.Path
	fs.Var(&urls, "url", "a repository to grant, host/owner/repo or host/owner/* (repeatable)")
	ttl := fs.String("ttl", "1h", "how long the grant lives (at most 7d)")
	maxUses := fs.Int("max-uses", 0, "socket: hand out at most N tokens, then end (0: no cap)")
	label := fs.String("label", "", "the grant's name (default: the repository and a random suffix)")
	fs.Var(&uids, "uid", "socket: a peer uid allowed to connect (repeatable; default: yours)")
	fs.Var(&sock, "socket", "serve the grant on a socket at PATH (default, in the runtime directory)")
	fs.Var(&file, "file", "write the token to a file at PATH (mode 0600)")
	pos, err := parseFlags(fs, cliflag.Bare(args, "socket", "file"))
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{"grant takes no arguments: name repositories with --url"}
	}
	if len(urls) == 0 {
		return usageError{"grant needs at least one --url"}
	}
	if sock.Given && file.Given {
		return usageError{"--socket and --file exclude each other"}
	}
	secs, err := parseTTL(*ttl)
	if err != nil {
		return err
	}
	spec := &client.GrantSpec{Label: *label, URLs: urls, TTL: secs, MaxUses: *maxUses, UIDs: uids, Mode: client.GrantSocket}
	p := sock.Path
	if file.Given {
		spec.Mode, p = client.GrantFile, file.Path
	}
	if p != "" {
		// The agent runs elsewhere; it needs the whole path.
		if spec.Path, err = filepath.Abs(p); err != nil {
			return err
		}
	}
	resp, err := call(&client.Request{Op: client.OpGrant, Grant: spec})
	if err != nil {
		return err
	}
	g := resp.Grants[0]
	fmt.Fprintf(e.stdout, "granted %s: %s %s\n", g.Label, g.Mode, g.Path)
	view.Grant(e.stdout, g)
	return nil
}

func cmdGrants(e *env, args []string) error {
	if _, err := parseFlags(newFlags("grants", e), args); err != nil {
		return err
	}
	resp, err := call(&client.Request{Op: client.OpGrants})
	if err != nil {
		return err
	}
	if len(resp.Grants) == 0 {
		fmt.Fprintln(e.stdout, "no grants: make one with keyfob grant --url github.com/OWNER/REPO")
		return nil
	}
	return view.Grants(e.stdout, resp.Grants)
}

func cmdRevoke(e *env, args []string) error {
	arg, err := oneArg(e, "revoke", args, "revoke takes exactly one LABEL")
	if err != nil {
		return err
	}
	if _, err := call(&client.Request{Op: client.OpRevoke, Name: arg}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked %s\n", arg)
	return nil
}
