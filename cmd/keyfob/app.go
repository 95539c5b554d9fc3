package main

import (
	"fmt"
	"strings"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/cliflag"
	"github.com/keyfob/keyfob/client/view"
	"github.com/keyfob/keyfob/daemon/ghapp"
)

func cmdApp(e *env, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintf(e.stdout, "usage: keyfob %s\n\n", commands["app"].usage)
		return cmdAppAdd(e, args)
	}
	if len(args) == 0 || args[0] != "add" {
		return usageError{"app takes a subcommand: app add NAME --app-id ID (--installation-id N | --owner ORG) --key-file PEM [--host H]..."}
	}
	return cmdAppAdd(e, args[1:])
}

// cmdAppAdd stores a GitHub App's private key in the keychain. The key
// comes from a file (its path, never its content, is in argv), which can
// be deleted afterwards.
func cmdAppAdd(e *env, args []string) error {
	fs := newFlags("app add", e)
	appID := fs.Int64("app-id", 0, "the GitHub App's id (app settings, About)")
	instID := fs.Int64("installation-id", 0, "the installation's id (the number at the end of its settings URL)")
	owner := fs.String("owner", "", "the organization or user the app is installed on (instead of --installation-id)")
	keyFile := fs.String("key-file", "", "the app's private key, the .pem file GitHub offered for download")
	var hosts cliflag.List
	fs.Var(&hosts, "host", "host[:port] the app's tokens may go to (repeatable; default github.com)")
	noVerify := fs.Bool("no-verify", false, "do not mint a token to check the app")
	clientID := fs.String("client-id", "", "the app's client id, kept for keyfob login --app NAME")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usageError{"app add takes exactly one NAME"}
	case *appID <= 0:
		return usageError{"app add needs --app-id"}
	case (*instID == 0) == (*owner == ""):
		return usageError{"app add needs exactly one of --installation-id and --owner"}
	case *keyFile == "":
		return usageError{"app add needs --key-file"}
	}
	key, err := ghapp.ReadKeyFile(*keyFile)
	if err != nil {
		return err
	}
	defer key.Wipe()
	resp, err := call(&client.Request{Op: client.OpAppAdd, Name: pos[0], Secret: key,
		App: &client.AppSpec{AppID: *appID, InstallationID: *instID, Owner: *owner, Hosts: hosts, NoVerify: *noVerify, ClientID: *clientID}})
	if err != nil {
		return err
	}
	printWarnings(e, resp)
	ai := resp.Apps[0]
	fmt.Fprintf(e.stdout, "added app %s (app id %d, %s) for %s; %s\n", ai.Name, ai.AppID, view.Installation(ai), strings.Join(ai.Hosts, ", "), view.Verified(ai))
	fmt.Fprintf(e.stdout, "the private key is in the keychain now: %s can be deleted\n", *keyFile)
	return nil
}
