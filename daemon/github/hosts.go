package github

import (
	"net"
	"strings"
)

// DefaultWeb is github.com's web base (OAuth and the device flow).
const DefaultWeb = "https://github.com"

// Host is a git host that is a GitHub: GitHub Enterprise Server declared in
// the config ([[github]]), or a GHE.com subdomain known by its name.
type Host struct {
	// Name is the git host, host[:port], lower case.
	Name string
	// API is the REST API base, without a final slash.
	API string
	// Web is the web base (OAuth and the device flow).
	Web string
	// Source is where it was declared ("path:line"), "" when known by
	// name.
	Source string
}

// Hosts knows which git hosts are GitHubs and where their API and web
// bases are: github.com (with KEYFOB_GITHUB_API and KEYFOB_GITHUB_URL as
// overrides), every configured Enterprise host, and SUB.ghe.com. It is the
// one place that maps a host to its bases. The zero value knows
// github.com and GHE.com only. A Hosts is never changed after NewHosts.
type Hosts struct {
	api, web   string
	enterprise map[string]Host
	order      []string
}

// NewHosts returns the GitHub hosts: github.com at api and web ("" for
// DefaultAPI and DefaultWeb) and the Enterprise hosts given. An
// Enterprise host's empty API is https://HOST/api/v3, its empty Web
// https://HOST.
func NewHosts(api, web string, enterprise []Host) *Hosts {
	h := &Hosts{api: strings.TrimSuffix(api, "/"), web: strings.TrimSuffix(web, "/"), enterprise: map[string]Host{}}
	for _, e := range enterprise {
		e.Name = strings.ToLower(e.Name)
		if e.API == "" {
			e.API = "https://" + e.Name + "/api/v3"
		}
		if e.Web == "" {
			e.Web = "https://" + e.Name
		}
		e.API, e.Web = strings.TrimSuffix(e.API, "/"), strings.TrimSuffix(e.Web, "/")
		if _, dup := h.enterprise[e.Name]; !dup {
			h.order = append(h.order, e.Name)
		}
		h.enterprise[e.Name] = e
	}
	return h
}

// Lookup returns what is known of host: github.com, a configured host, or
// SUB.ghe.com; false for any other host.
func (h *Hosts) Lookup(host string) (Host, bool) {
	host = strings.ToLower(host)
	if host == "github.com" {
		out := Host{Name: host, API: DefaultAPI, Web: DefaultWeb}
		if h != nil && h.api != "" {
			out.API = h.api
		}
		if h != nil && h.web != "" {
			out.Web = h.web
		}
		return out, true
	}
	if h != nil {
		if e, ok := h.enterprise[host]; ok {
			return e, true
		}
	}
	if sub, ok := GHECom(host); ok {
		return Host{Name: host, API: "https://api." + sub + ".ghe.com", Web: "https://" + sub + ".ghe.com"}, true
	}
	return Host{}, false
}

// API returns host's REST API base, false when host is not a GitHub.
func (h *Hosts) API(host string) (string, bool) {
	e, ok := h.Lookup(host)
	return e.API, ok
}

// Web returns host's web base, false when host is not a GitHub.
func (h *Hosts) Web(host string) (string, bool) {
	e, ok := h.Lookup(host)
	return e.Web, ok
}

// IsEnterprise reports whether host is a GitHub other than github.com: a
// configured Enterprise Server or GHE.com. gh reads such a host's token
// from GH_ENTERPRISE_TOKEN.
func (h *Hosts) IsEnterprise(host string) bool {
	_, ok := h.Lookup(host)
	return ok && !strings.EqualFold(host, "github.com")
}

// Configured returns the Enterprise hosts from the config, in their order.
func (h *Hosts) Configured() []Host {
	if h == nil {
		return nil
	}
	out := make([]Host, 0, len(h.order))
	for _, n := range h.order {
		out = append(out, h.enterprise[n])
	}
	return out
}

// GHECom returns SUB for a host SUB.ghe.com (GitHub Enterprise Cloud with
// data residency), whose API is api.SUB.ghe.com.
func GHECom(host string) (string, bool) {
	host = strings.ToLower(host)
	if _, _, err := net.SplitHostPort(host); err == nil {
		return "", false
	}
	sub, ok := strings.CutSuffix(host, ".ghe.com")
	if !ok || sub == "" || sub == "api" || strings.Contains(sub, ".") {
		return "", false
	}
	for _, r := range sub {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "", false
		}
	}
	return sub, true
}

// APIBase returns the API base for a git host: override (KEYFOB_GITHUB_API)
// or DefaultAPI for github.com, a configured Enterprise host's API, the
// API of SUB.ghe.com, and false for any other host.
func APIBase(host, override string, enterprise []Host) (string, bool) {
	return NewHosts(override, "", enterprise).API(host)
}
