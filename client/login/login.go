// Package login runs keyfob login's side of GitHub's device flow: it asks
// the agent for a code, shows it, and polls the agent until GitHub has an
// answer. The agent talks to GitHub and keeps the tokens; this side only
// ever holds the device code.
package login

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
)

// CallTimeout bounds one login request: the agent calls GitHub's web
// base, then its API, each within 20 s.
const CallTimeout = 50 * time.Second

// Call sends one request to the agent and waits up to timeout.
type Call func(req *client.Request, timeout time.Duration) (*client.Response, error)

// ErrExpired is returned when the device code expired unapproved.
var ErrExpired = errors.New("the device code expired before it was approved")

// Run starts the device flow for spec, writes the verification URL and
// the user code to stderr (and opens a browser when web is set), then
// polls at the interval GitHub asks for, honouring slow_down, until the
// agent answers with the token it stored as name ("" for its default).
// Sleep is time.Sleep, or a test's.
func Run(call Call, spec *client.LoginSpec, name string, web bool, stderr io.Writer, sleep func(time.Duration)) (*client.Response, error) {
	start, err := call(&client.Request{Op: client.OpLoginStart, Login: spec}, CallTimeout)
	if err != nil {
		return nil, err
	}
	code := start.Secret
	defer code.Wipe()
	li := start.Login
	if li == nil || code.IsZero() {
		return nil, errors.New("login: the agent answered no device code")
	}
	fmt.Fprintf(stderr, "keyfob: open %s and enter the code %s\n", li.VerificationURI, li.UserCode)
	if web {
		if err := openBrowser(li.VerificationURI); err != nil {
			fmt.Fprintf(stderr, "keyfob: warning: could not open a browser (%v); open the page yourself\n", err)
		}
	}
	expires := time.Duration(li.ExpiresIn) * time.Second
	if expires <= 0 {
		expires = 15 * time.Minute
	}
	fmt.Fprintf(stderr, "keyfob: waiting for the approval (the code expires in %s)\n", expires.Round(time.Minute))
	interval := pollInterval(li.Interval, 5*time.Second)
	deadline := time.Now().Add(expires)
	for {
		sleep(interval)
		if time.Now().After(deadline) {
			return nil, ErrExpired
		}
		dc := code.Clone()
		resp, err := call(&client.Request{Op: client.OpLoginPoll, Name: name, Login: spec, Secret: dc}, CallTimeout)
		dc.Wipe()
		if err != nil {
			return nil, err
		}
		if resp.Login != nil && resp.Login.Pending {
			interval = pollInterval(resp.Login.Interval, interval)
			continue
		}
		if len(resp.Tokens) == 0 {
			return nil, errors.New("login: the agent answered no token")
		}
		return resp, nil
	}
}

// pollInterval is the wait the agent passed on (seconds), else def.
func pollInterval(sec int64, def time.Duration) time.Duration {
	if sec > 0 {
		return time.Duration(sec) * time.Second
	}
	return def
}

// Describe says what a new user token is: login, kind, expiries.
func Describe(t client.TokenInfo) string {
	var s []string
	if t.Login != "" {
		s = append(s, "as "+t.Login)
	}
	kind := t.Kind
	if kind == "" {
		kind = "user"
	}
	s = append(s, kind)
	if !t.Expires.IsZero() {
		s = append(s, "expires "+t.Expires.UTC().Format(time.DateTime)+" UTC")
	}
	if !t.RefreshExpires.IsZero() {
		s = append(s, "refresh token valid until "+t.RefreshExpires.UTC().Format(time.DateOnly))
	}
	return "; " + strings.Join(s, ", ")
}
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
