package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/cliflag"
	"github.com/keyfob/keyfob/client/view"
	"github.com/keyfob/keyfob/daemon/passphrase"
)

func cmdAdd(e *env, args []string) error {
	fs := newFlags("add", e)
	var hosts cliflag.List
	fs.Var(&hosts, "host", "host[:port] the token may go to (repeatable)")
	user := fs.String("username", "", "username git sends with the token (default x-access-token)")
	expires := fs.String("expires", "", "expiry: a date, RFC 3339 time, or duration")
	every := fs.String("rotate-every", "", "rotation period (default 30d)")
	noVerify := fs.Bool("no-verify", false, "do not check the token against the GitHub API")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"add takes exactly one NAME; the secret comes from the prompt or stdin, never from arguments"}
	}
	meta := &client.TokenMeta{Hosts: hosts, Username: *user, NoVerify: *noVerify}
	if meta.Expires, err = parseExpires(*expires); err != nil {
		return err
	}
	if *every != "" {
		d, err := parseDuration(*every)
		if err != nil || d <= 0 {
			return usageError{fmt.Sprintf("--rotate-every %q: want a duration such as 30d or 720h", *every)}
		}
		meta.RotateEvery = int64(d / time.Second)
	}
	if len(hosts) == 0 {
		return usageError{"add needs at least one --host"}
	}
	secret, err := passphrase.Read(e.stdin, e.stderr, "token for "+pos[0]+": ")
	if err != nil {
		return err
	}
	resp, err := call(&client.Request{Op: client.OpAdd, Name: pos[0], Meta: meta, Secret: secret})
	if err != nil {
		return err
	}
	printWarnings(e, resp)
	fmt.Fprintf(e.stdout, "added %s (%s) for %s%s\n", pos[0], resp.Tokens[0].Masked, strings.Join(hosts, ", "), view.Validated(resp.Tokens[0]))
	return nil
}

func cmdRotate(e *env, args []string) error {
	fs := newFlags("rotate", e)
	expires := fs.String("expires", "", "expiry of the new token")
	noVerify := fs.Bool("no-verify", false, "do not check the token against the GitHub API")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"rotate takes exactly one NAME"}
	}
	meta := &client.TokenMeta{NoVerify: *noVerify}
	if meta.Expires, err = parseExpires(*expires); err != nil {
		return err
	}
	secret, err := passphrase.Read(e.stdin, e.stderr, "new token for "+pos[0]+": ")
	if err != nil {
		return err
	}
	resp, err := call(&client.Request{Op: client.OpRotate, Name: pos[0], Meta: meta, Secret: secret})
	if err != nil {
		return err
	}
	printWarnings(e, resp)
	fmt.Fprintf(e.stdout, "rotated %s (now %s)%s\n", pos[0], resp.Tokens[0].Masked, view.Validated(resp.Tokens[0]))
	return nil
}

func cmdRemove(e *env, args []string) error {
	arg, err := oneArg(e, "remove", args, "remove takes exactly one NAME")
	if err != nil {
		return err
	}
	if _, err := call(&client.Request{Op: client.OpRemove, Name: arg}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %s\n", arg)
	return nil
}

func cmdList(e *env, args []string) error {
	if _, err := parseFlags(newFlags("list", e), args); err != nil {
		return err
	}
	resp, err := call(&client.Request{Op: client.OpList})
	if err != nil {
		return err
	}
	view.List(e.stdout, resp.Tokens, resp.Apps)
	return nil
}

func cmdStatus(e *env, args []string) error {
	fs := newFlags("status", e)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := call(&client.Request{Op: client.OpStatus})
	if err != nil {
		return err
	}
	var toks []client.TokenInfo
	var apps []client.AppInfo
	if !st.Status.Locked {
		l, err := call(&client.Request{Op: client.OpList})
		if err != nil {
			return err
		}
		toks, apps = l.Tokens, l.Apps
	}
	if *asJSON {
		return view.StatusJSON(e.stdout, st.Status, toks, apps)
	}
	view.Status(e.stdout, st.Status, toks, apps)
	return nil
}
