package ghenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
)

// GrantEnv returns env for a command running under grant g: the grant's
// socket in KEYFOB_SOCKET with autostart off and git's credential helper
// set through GIT_CONFIG_COUNT (an empty helper first, so no helper from
// the user's config sees the token), or the grant's file in GH_TOKEN_FILE.
// Tokens in the environment (GH_TOKEN and the like) are dropped. helper
// is the credential helper as git's config names it.
func GrantEnv(env []string, g client.GrantInfo, helper string) []string {
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

// ErrNoOrigin is Origin's error when git names no origin remote here.
var ErrNoOrigin = errors.New("find the origin remote")

// Origin returns the URL of the current repository's origin remote,
// rewritten to https as git would fetch it with a credential.
func Origin() (string, error) {
	out, err := exec.Command("git", "remote", "get-url", "origin").Output()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoOrigin, err)
	}
	return client.HTTPSRemote(strings.TrimSpace(string(out))), nil
}

// ForeignOrigin returns the host of the current checkout's origin remote
// when none of hosts (a token's allowlist) is it. gh run in the checkout
// talks to that host, and sends it GH_ENTERPRISE_TOKEN when that is set.
// ok is false outside a checkout, and for an origin on one of hosts.
func ForeignOrigin(hosts []string) (host string, ok bool) {
	url, err := Origin()
	if err != nil {
		return "", false
	}
	cred, err := client.ParseRemote(url)
	if err != nil {
		return "", false
	}
	for _, h := range hosts {
		if strings.EqualFold(h, cred.Host) {
			return "", false
		}
	}
	return cred.Host, true
}

// Request builds the token request: by name, by URL, or by the current
// repository's origin remote.
func Request(url, name string) (*client.Request, error) {
	if name != "" {
		return &client.Request{Op: client.OpToken, Name: name}, nil
	}
	if url == "" {
		var err error
		if url, err = Origin(); err != nil {
			return nil, err
		}
	}
	cred, err := client.ParseRemote(url)
	if err != nil {
		return nil, err
	}
	return &client.Request{Op: client.OpToken, Cred: &cred}, nil
}

// Hosts returns the hosts the token that answered req may go to: the
// request's host, or for a token asked for by name, the hosts that list's
// inventory gives it (none when list fails).
func Hosts(req *client.Request, token string, list func() (*client.Response, error)) []string {
	if req.Cred != nil {
		return []string{req.Cred.Host}
	}
	return AllowedHosts(token, list)
}

// AllowedHosts returns the allowlist that list's inventory gives token
// (none when list fails).
func AllowedHosts(token string, list func() (*client.Response, error)) []string {
	l, err := list()
	if err != nil {
		return nil
	}
	for _, t := range l.Tokens {
		if t.Name == token {
			return t.Hosts
		}
	}
	return nil
}

// RunGrant runs argv under a grant of its own, made with spec through
// call, and revokes the grant when argv ends, however it ends (signals
// are forwarded and waited for). git inside is configured through the
// environment only (GrantEnv, with helper), so the user's git config is
// not touched, and no long-lived token is put in the environment. A
// revoke that fails is a warning on stderr: the grant ends at its expiry
// anyway.
func RunGrant(call func(*client.Request) (*client.Response, error), spec *client.GrantSpec, helper string, argv []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	resp, err := call(&client.Request{Op: client.OpGrant, Grant: spec})
	if err != nil {
		return 0, err
	}
	g := resp.Grants[0]
	defer func() {
		if _, err := call(&client.Request{Op: client.OpRevoke, Name: g.Label}); err != nil && !client.IsCode(err, client.CodeNotFound) {
			fmt.Fprintf(stderr, "keyfob: warning: revoke grant %s: %v; it ends at %s anyway\n", g.Label, err, g.Expires.UTC().Format(time.DateTime+" MST"))
		}
	}()
	return RunEnv(argv, stdin, stdout, stderr, GrantEnv(os.Environ(), g, helper))
}
