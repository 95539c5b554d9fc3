package github

import (
	"net/url"
	"strings"
)

// ParseSSO reads an X-GitHub-SSO header. GitHub sends two forms:
// "required; url=https://github.com/orgs/ORG/sso?authorization_request=…"
// on a 403 when the token is not authorized for ORG's SAML single sign-on,
// and "partial-results; organizations=21955855,20582480" on a list that
// left out such organizations' resources. ParseSSO returns the URL of the
// first form, or the organization ids of the second. Only an https (or, for
// a loopback fake, http) URL is returned.
func ParseSSO(h string) (authURL string, orgIDs []string) {
	kind, rest, _ := strings.Cut(h, ";")
	switch strings.TrimSpace(strings.ToLower(kind)) {
	case "required":
		for _, p := range strings.Split(rest, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(k, "url") {
				continue
			}
			u, err := url.Parse(v)
			if err != nil || len(v) > 2048 || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || strings.ContainsAny(v, " \t\r\n\x00") {
				return "", nil
			}
			return v, nil
		}
	case "partial-results":
		for _, p := range strings.Split(rest, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(k, "organizations") {
				continue
			}
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					orgIDs = append(orgIDs, id)
				}
			}
		}
	}
	return "", orgIDs
}

// SSOOrg returns the organization an SSO authorization URL is for
// (https://HOST/orgs/ORG/sso?…), "" when the URL does not say.
func SSOOrg(authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil {
		return ""
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		if segs[i] == "orgs" {
			return segs[i+1]
		}
	}
	return ""
}
