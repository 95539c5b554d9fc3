package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github"
)

// CheckGitHub is the area of the GitHub hosts: the configured Enterprise
// hosts' APIs and the tokens' SAML SSO.
const CheckGitHub = "github"

// apiTimeout bounds one GET of an Enterprise API's /meta.
const apiTimeout = 5 * time.Second

// githubHosts checks that each configured Enterprise host's API answers
// (GET /meta, which needs no token: none is sent), and names token hosts
// that look like a GitHub but are not declared.
func (r *report) githubHosts(hosts *github.Hosts, toks []client.TokenInfo, path string) {
	for _, h := range hosts.Configured() {
		r.enterpriseAPI(h)
	}
	seen := map[string]bool{}
	for _, t := range toks {
		for _, h := range t.Hosts {
			lh := strings.ToLower(h)
			if _, ok := hosts.Lookup(lh); ok || seen[lh] || !looksLikeGitHub(lh) {
				continue
			}
			seen[lh] = true
			r.problem(CheckGitHub, fmt.Sprintf("token %s is for %s, which keyfob does not know as a GitHub: its tokens are not validated or re-checked, and apps cannot mint there", t.Name, h),
				fmt.Sprintf("if it is GitHub Enterprise Server, declare it in %s: [[github]] host = %q (api defaults to https://%s/api/v3)", path, h, h))
		}
	}
}

func looksLikeGitHub(host string) bool {
	return strings.Contains(host, "github") || strings.HasPrefix(host, "ghe.") || strings.Contains(host, ".ghe.")
}

func (r *report) enterpriseAPI(h github.Host) {
	ctx, cancel := context.WithTimeout(context.Background(), apiTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.API+"/meta", nil)
	if err != nil {
		r.problem(CheckGitHub, fmt.Sprintf("GitHub host %s: API %s: %v", h.Name, h.API, err), "fix api = … in its [[github]] table")
		return
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("User-Agent", "keyfob")
	resp, err := (&http.Client{Timeout: apiTimeout}).Do(req)
	if err != nil {
		r.problem(CheckGitHub, fmt.Sprintf("GitHub host %s: the API at %s does not answer: %v", h.Name, h.API, err),
			"check the network (a VPN?), or the api = … of its [[github]] table ("+h.Source+")")
		return
	}
	defer resp.Body.Close()
	var meta struct {
		Version string `json:"installed_version"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &meta) != nil {
		r.problem(CheckGitHub, fmt.Sprintf("GitHub host %s: GET %s/meta answered %d, not GitHub's API", h.Name, h.API, resp.StatusCode),
			fmt.Sprintf("set its REST API base: api = \"https://%s/api/v3\" in its [[github]] table (%s)", h.Name, h.Source))
		return
	}
	v := ""
	if meta.Version != "" {
		v = " (GitHub Enterprise Server " + meta.Version + ")"
	}
	r.ok(CheckGitHub, "GitHub host %s: API %s answers%s", h.Name, h.API, v)
}

// tokenStates reports the tokens that an organization refuses until they
// are authorized for its SAML SSO.
func (r *report) tokenStates(toks []client.TokenInfo) {
	for _, t := range toks {
		for _, s := range t.SSO {
			r.problem(CheckGitHub, fmt.Sprintf("token %s is sso-required: organization %s enforces SAML SSO and refuses it", t.Name, s.Org),
				"authorize the token at "+s.URL+" (keyfob checks again after a config change, an unlock or a rejection)")
		}
	}
}
