package client

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ParseRemote turns "github.com/acme/app", "https://user@host/acme/app.git"
// or a git remote URL into the credential git would ask for.
func ParseRemote(s string) (Credential, error) {
	if !strings.Contains(s, "://") {
		if strings.HasPrefix(s, "git@") {
			return Credential{}, fmt.Errorf("%q is an ssh remote: keyfob serves https remotes", s)
		}
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Credential{}, fmt.Errorf("invalid URL %q: want host[/owner[/repo]] or https://host/owner/repo", s)
	}
	c := Credential{Protocol: u.Scheme, Host: u.Host, Path: strings.Trim(u.Path, "/")}
	if u.User != nil {
		c.Username = u.User.Username()
	}
	return c, nil
}

// HTTPSRemote maps an ssh remote (git@host:owner/repo.git or
// ssh://git@host/owner/repo.git) to the https URL of the same repository,
// so the API token follows the same routes as git would; other remotes are
// returned as they are.
func HTTPSRemote(r string) string {
	if rest, ok := strings.CutPrefix(r, "ssh://"); ok {
		if _, after, ok := strings.Cut(rest, "@"); ok {
			rest = after
		}
		host, path, _ := strings.Cut(rest, "/")
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h // the ssh port says nothing about https
		}
		return "https://" + host + "/" + path
	}
	if !strings.Contains(r, "://") {
		if at, colon := strings.Index(r, "@"), strings.Index(r, ":"); at >= 0 && colon > at {
			return "https://" + r[at+1:colon] + "/" + r[colon+1:]
		}
	}
	return r
}
