package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/cliflag"
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
	d, err := parseDuration(*ttl)
	if err != nil || d < time.Second {
		return usageError{fmt.Sprintf("--ttl %q: want a duration such as 30m, 1h or 1d", *ttl)}
	}
	spec := &client.GrantSpec{Label: *label, URLs: urls, TTL: int64(d / time.Second), MaxUses: *maxUses, UIDs: uids, Mode: client.GrantSocket}
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
	printGrant(e.stdout, g)
	return nil
}

func printGrant(w io.Writer, g client.GrantInfo) {
	fmt.Fprintf(w, "urls:    %s\n", strings.Join(g.URLs, " "))
	fmt.Fprintf(w, "expires: %s (in %s)\n", g.Expires.UTC().Format(time.DateTime+" MST"), time.Until(g.Expires).Round(time.Second))
	if g.MaxUses > 0 {
		fmt.Fprintf(w, "uses:    at most %d\n", g.MaxUses)
	}
	if g.Mode == client.GrantSocket {
		fmt.Fprintf(w, "uids:    %s\n", joinInts(g.UIDs))
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
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
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LABEL\tMODE\tURLS\tEXPIRES\tUSES\tUIDS\tPATH")
	for _, g := range resp.Grants {
		uses := strconv.Itoa(g.Uses)
		if g.MaxUses > 0 {
			uses += "/" + strconv.Itoa(g.MaxUses)
		}
		uidCol := joinInts(g.UIDs)
		if uidCol == "" {
			uidCol = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Label, g.Mode, strings.Join(g.URLs, ","),
			g.Expires.UTC().Format(time.DateTime), uses, uidCol, g.Path)
	}
	return tw.Flush()
}

func cmdRevoke(e *env, args []string) error {
	pos, err := parseFlags(newFlags("revoke", e), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"revoke takes exactly one LABEL"}
	}
	if _, err := call(&client.Request{Op: client.OpRevoke, Name: pos[0]}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked %s\n", pos[0])
	return nil
}
