package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/login"
)

// cmdLogin runs GitHub's device flow through the agent: the agent asks
// GitHub for a code, this command shows it (on stderr) and polls; on
// approval the agent stores the user token and its refresh token and
// refreshes the token from then on. No secret reaches this process but
// the device code, and no TTY is needed.
func cmdLogin(e *env, args []string) error {
	fs := newFlags("login", e)
	clientID := fs.String("client-id", "", "the GitHub App's client id (its settings page, About)")
	app := fs.String("app", "", "use the client id stored with keyfob app add NAME --client-id")
	host := fs.String("host", "github.com", "the GitHub host: github.com, a [[github]] host, or SUB.ghe.com")
	name := fs.String("name", "", "the token's name (default LOGIN@HOST)")
	scope := fs.String("scope", "", "OAuth scopes (OAuth Apps; a GitHub App's permissions are its own)")
	web := fs.Bool("web", false, "open the verification page in a browser (xdg-open, open)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return usageError{"login takes no arguments"}
	case *clientID == "" && *app == "":
		return usageError{"login needs --client-id ID (or --app NAME)"}
	}
	spec := &client.LoginSpec{ClientID: *clientID, App: *app, Host: *host, Scope: *scope}
	resp, err := login.Run(callFor, spec, *name, *web, e.stderr, time.Sleep)
	if errors.Is(err, login.ErrExpired) {
		return hinted{err, "run keyfob login again, and enter the code in time"}
	}
	if err != nil {
		return err
	}
	printWarnings(e, resp)
	t := resp.Tokens[0]
	fmt.Fprintf(e.stdout, "logged in: %s (%s) for %s%s\n", t.Name, t.Masked, strings.Join(t.Hosts, ", "), login.Describe(t))
	return nil
}
