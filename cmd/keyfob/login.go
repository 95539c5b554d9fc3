package main

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
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
	start, err := callFor(&client.Request{Op: client.OpLoginStart, Login: spec}, loginCallTimeout)
	if err != nil {
		return err
	}
	code := start.Secret
	defer code.Wipe()
	li := start.Login
	if li == nil || code.IsZero() {
		return errors.New("login: the agent answered no device code")
	}
	fmt.Fprintf(e.stderr, "keyfob: open %s and enter the code %s\n", li.VerificationURI, li.UserCode)
	if *web {
		if err := openBrowser(li.VerificationURI); err != nil {
			fmt.Fprintf(e.stderr, "keyfob: warning: could not open a browser (%v); open the page yourself\n", err)
		}
	}
	expires := time.Duration(li.ExpiresIn) * time.Second
	if expires <= 0 {
		expires = 15 * time.Minute
	}
	fmt.Fprintf(e.stderr, "keyfob: waiting for the approval (the code expires in %s)\n", expires.Round(time.Minute))
	interval := pollInterval(li.Interval, 5*time.Second)
	deadline := time.Now().Add(expires)
	for {
		time.Sleep(interval)
		if time.Now().After(deadline) {
			return hinted{errors.New("the device code expired before it was approved"), "run keyfob login again, and enter the code within " + expires.Round(time.Minute).String()}
		}
		dc := code.Clone()
		resp, err := callFor(&client.Request{Op: client.OpLoginPoll, Name: *name, Login: spec, Secret: dc}, loginCallTimeout)
		dc.Wipe()
		if err != nil {
			return err
		}
		if resp.Login != nil && resp.Login.Pending {
			interval = pollInterval(resp.Login.Interval, interval)
			continue
		}
		printWarnings(e, resp)
		if len(resp.Tokens) == 0 {
			return errors.New("login: the agent answered no token")
		}
		t := resp.Tokens[0]
		fmt.Fprintf(e.stdout, "logged in: %s (%s) for %s%s\n", t.Name, t.Masked, strings.Join(t.Hosts, ", "), loggedIn(t))
		return nil
	}
}

// loginCallTimeout bounds one login request: the agent calls GitHub's web
// base, then its API, each within 20 s.
const loginCallTimeout = 50 * time.Second

// pollInterval is the wait the agent passed on (seconds), else def.
func pollInterval(sec int64, def time.Duration) time.Duration {
	if sec > 0 {
		return time.Duration(sec) * time.Second
	}
	return def
}

// loggedIn describes a new user token.
func loggedIn(t client.TokenInfo) string {
	var s []string
	if t.Login != "" {
		s = append(s, "as "+t.Login)
	}
	s = append(s, cmpOrStr(t.Kind, "user"))
	if !t.Expires.IsZero() {
		s = append(s, "expires "+t.Expires.UTC().Format(time.DateTime)+" UTC")
	}
	if !t.RefreshExpires.IsZero() {
		s = append(s, "refresh token valid until "+t.RefreshExpires.UTC().Format(time.DateOnly))
	}
	return "; " + strings.Join(s, ", ")
}

func cmpOrStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// openBrowser opens url with the desktop's opener. The URL is GitHub's
// verification page: no secret.
func openBrowser(url string) error {
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	}
	cmd := exec.Command(opener, url)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
