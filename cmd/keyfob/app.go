package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyfob/keyfob/client"
)

// maxKeyFile bounds the private key file read by keyfob app add: GitHub's
// keys are PEM, a few KiB.
const maxKeyFile = 16 << 10

func cmdApp(e *env, args []string) error {
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
	var hosts hostList
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
	key, err := readKeyFile(*keyFile)
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
	fmt.Fprintf(e.stdout, "added app %s (app id %d, %s) for %s; %s\n", ai.Name, ai.AppID, installation(ai), strings.Join(ai.Hosts, ", "), verified(ai))
	fmt.Fprintf(e.stdout, "the private key is in the keychain now: %s can be deleted\n", *keyFile)
	return nil
}

func readKeyFile(path string) (client.Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return client.Secret{}, fmt.Errorf("read private key: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	defer clear(b)
	switch {
	case err != nil:
		return client.Secret{}, fmt.Errorf("read private key: %w", err)
	case len(b) > maxKeyFile:
		return client.Secret{}, fmt.Errorf("read private key %s: larger than %d KiB, so not a GitHub App key", path, maxKeyFile>>10)
	case len(b) == 0:
		return client.Secret{}, fmt.Errorf("read private key %s: empty file", path)
	}
	return client.NewSecret(string(b)), nil
}

func installation(ai client.AppInfo) string {
	switch {
	case ai.InstallationID != 0 && ai.Owner != "":
		return "installation " + strconv.FormatInt(ai.InstallationID, 10) + " on " + ai.Owner
	case ai.InstallationID != 0:
		return "installation " + strconv.FormatInt(ai.InstallationID, 10)
	}
	return "installed on " + ai.Owner
}

func verified(ai client.AppInfo) string {
	if ai.Validation == "valid" {
		return "verified: " + ai.Reason
	}
	return ai.Validation + ": " + ai.Reason
}

// printApps writes the apps and the installation tokens cached for each,
// masked, with their scope and expiry.
func printApps(w io.Writer, apps []client.AppInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tAPP ID\tINSTALLATION\tHOSTS\tSTATE\tCACHED TOKENS")
	for _, a := range apps {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\n", a.Name, a.AppID, installation(a), strings.Join(a.Hosts, ","), a.Validation, len(a.Cached))
	}
	tw.Flush()
	for _, a := range apps {
		for _, m := range a.Cached {
			fmt.Fprintf(w, "  %s: %s  installation %d  %s  expires %s UTC (in %s)\n", a.Name, m.Masked, m.Installation, m.Scope,
				m.Expires.UTC().Format(time.DateTime), time.Until(m.Expires).Round(time.Minute))
		}
	}
}
