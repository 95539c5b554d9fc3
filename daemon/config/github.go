package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/policy"
)

// MaxGitHubHosts is the most [[github]] tables a config may have.
const MaxGitHubHosts = 100

// githubEntry is one [[github]] table: a GitHub Enterprise Server host.
type githubEntry struct {
	Host string `toml:"host"`
	API  string `toml:"api"`
	Web  string `toml:"web"`
}

// githubSource returns "path:line" of the i-th [[github]] table.
func (ix *lineIndex) githubSource(path string, i int) string {
	if ls := ix.keys["github"]; i < len(ls) {
		return fmt.Sprintf("%s:%d", path, ls[i])
	}
	return path
}

// githubHosts checks the [[github]] tables and returns them as hosts.
func githubHosts(path string, lines *lineIndex, entries []githubEntry) ([]github.Host, []policy.Problem) {
	var probs []policy.Problem
	if len(entries) > MaxGitHubHosts {
		return nil, []policy.Problem{{Source: lines.githubSource(path, MaxGitHubHosts),
			Msg: fmt.Sprintf("more than %d [[github]] hosts", MaxGitHubHosts)}}
	}
	var hosts []github.Host
	seen := map[string]string{}
	for i, e := range entries {
		src := lines.githubSource(path, i)
		bad := func(format string, args ...any) {
			probs = append(probs, policy.Problem{Source: src, Msg: "github: " + fmt.Sprintf(format, args...)})
		}
		host := strings.ToLower(strings.TrimSpace(e.Host))
		switch {
		case host == "":
			bad("host is missing; want the git host, such as host = \"ghe.example.com\"")
			continue
		case !validHost(host):
			bad("host %q: want host[:port] with no scheme or path", clip(host, 64))
			continue
		case host == "github.com":
			bad("github.com needs no [[github]] table (KEYFOB_GITHUB_API repoints its API in tests)")
			continue
		case seen[host] != "":
			bad("host %s is declared twice (first at %s)", host, seen[host])
			continue
		}
		seen[host] = src
		h := github.Host{Name: host, Source: src}
		for _, f := range []struct {
			key, val string
			dst      *string
		}{{"api", e.API, &h.API}, {"web", e.Web, &h.Web}} {
			v := strings.TrimSpace(f.val)
			if v == "" {
				continue
			}
			if msg := checkBase(v); msg != "" {
				bad("%s = %q: %s", f.key, clip(v, 128), msg)
				continue
			}
			*f.dst = strings.TrimSuffix(v, "/")
		}
		hosts = append(hosts, h)
	}
	return hosts, probs
}

func validHost(h string) bool {
	if len(h) > 255 {
		return false
	}
	for _, r := range h {
		if r <= ' ' || r == '/' || r == '@' || r == 0x7f || r == '\\' {
			return false
		}
	}
	return true
}

// checkBase says what is wrong with an API or web base, "" for nothing:
// an absolute https URL with no query, or http for a loopback host only,
// because the token is sent there.
func checkBase(v string) string {
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return "want an absolute URL such as https://ghe.example.com/api/v3"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "want a URL with no user, query or fragment"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && loopback(u.Hostname()):
		return ""
	case u.Scheme == "http":
		return "plain http only for a loopback host: tokens are sent there"
	}
	return "want an https URL"
}

func loopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// GitHubHosts returns the GitHub hosts the config at path declares, with
// github.com at api and web ("" for the defaults), as the agent knows
// them; only github.com and GHE.com when the config does not load.
func GitHubHosts(path, api, web string) *github.Hosts {
	var ent []github.Host
	if c, err := Load(path); err == nil {
		ent = c.GitHub
	}
	return github.NewHosts(api, web, ent)
}
