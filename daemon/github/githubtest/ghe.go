package githubtest

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
)

// Options shape a fake that is not api.github.com.
type Options struct {
	// PathPrefix serves the API under a path, as GitHub Enterprise
	// Server does under /api/v3; a request outside it gets the web
	// server's 404 (HTML), as a wrong API base would.
	PathPrefix string
	// TLS serves https with a certificate for 127.0.0.1 (CertPEM).
	TLS bool
}

// NewEnterpriseServer starts a fake GitHub Enterprise Server API on
// 127.0.0.1: the same API under /api/v3 (API is its base).
func NewEnterpriseServer() *Server { return NewServerWith(Options{PathPrefix: "/api/v3"}) }

// NewServerWith starts a fake API shaped by o. Close it when done.
func NewServerWith(o Options) *Server {
	s := newServer()
	var h http.Handler = s.mux
	if p := strings.TrimSuffix(o.PathPrefix, "/"); p != "" {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rest, ok := strings.CutPrefix(r.URL.Path, p)
			if !ok || (rest != "" && rest[0] != '/') {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Page not found · GitHub</title></head><body>Not Found</body></html>\n"))
				return
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path = cmpOr(rest, "/")
			r2.URL.RawPath = ""
			inner.ServeHTTP(w, r2)
		})
	}
	h = s.logged(h)
	if o.TLS {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	s.URL = s.srv.URL
	s.API = s.URL + strings.TrimSuffix(o.PathPrefix, "/")
	s.enterprise = o.PathPrefix != ""
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// meta is GET /meta, which needs no token; an Enterprise Server names its
// version in it.
func (s *Server) meta(w http.ResponseWriter, _ *http.Request) {
	m := map[string]any{"verifiable_password_authentication": !s.enterprise, "ssh_key_fingerprints": map[string]string{
		"SHA256_ED25519": "+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"}}
	if s.enterprise {
		m["installed_version"] = "3.14.2"
	}
	writeJSON(w, http.StatusOK, m)
}

// CertPEM returns the certificate of a TLS fake, PEM-encoded, for
// SSL_CERT_FILE; nil for a plain http fake.
func (s *Server) CertPEM() []byte {
	if s.srv.TLS == nil || s.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// Fail makes every API answer status (a 5xx: GitHub down or in
// maintenance) with GitHub's JSON body, until Fail(0).
func (s *Server) Fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = status
}

func (s *Server) failStatus() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failing
}

// SSO makes org enforce SAML single sign-on: GET /orgs/ORG and
// /repos/ORG/… answer 403 with X-GitHub-SSO: required; url=… to every
// token but those authorized (AuthorizeSSO).
func (s *Server) SSO(org string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sso == nil {
		s.sso = map[string]map[string]bool{}
	}
	if s.sso[strings.ToLower(org)] == nil {
		s.sso[strings.ToLower(org)] = map[string]bool{}
	}
}

// AuthorizeSSO authorizes token for org's SAML single sign-on.
func (s *Server) AuthorizeSSO(org, token string) {
	s.SSO(org)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sso[strings.ToLower(org)][token] = true
}

// SSOURL is the authorization URL the fake sends for org.
func SSOURL(org string) string {
	return "https://github.com/orgs/" + org + "/sso?authorization_request=A5VCNOEQ2ONF7ZXC3LWKZLLJPEZGRIXVXFRT7WQZRYCG4VBBMEGZMW"
}

// ssoBlocked writes GitHub's SAML 403 and reports true when org enforces
// SSO and the request's token is not authorized for it.
func (s *Server) ssoBlocked(w http.ResponseWriter, r *http.Request, org string) bool {
	_, tok := credentials(r)
	s.mu.Lock()
	auth, enforced := s.sso[strings.ToLower(org)]
	ok := !enforced || auth[tok]
	s.mu.Unlock()
	if ok {
		return false
	}
	w.Header().Set("X-GitHub-SSO", "required; url="+SSOURL(org))
	writeJSON(w, http.StatusForbidden, map[string]string{
		"message":           "Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.",
		"documentation_url": "https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/",
		"status":            "403",
	})
	return true
}

// Org makes org known to GET /orgs/ORG (organizations that enforce SSO,
// own repositories or have an App installed are known too).
func (s *Server) Org(org string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orgs == nil {
		s.orgs = map[string]bool{}
	}
	s.orgs[strings.ToLower(org)] = true
}

func (s *Server) org(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.account(w, r); !ok {
		return
	}
	org := r.PathValue("org")
	if s.ssoBlocked(w, r, org) {
		return
	}
	s.mu.Lock()
	known := s.orgs[strings.ToLower(org)] || s.sso[strings.ToLower(org)] != nil
	for full := range s.repos {
		o, _, _ := strings.Cut(full, "/")
		known = known || strings.EqualFold(o, org)
	}
	s.mu.Unlock()
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]string{
			"message": "Not Found", "documentation_url": "https://docs.github.com/rest/orgs/orgs#get-an-organization", "status": "404",
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"login": org, "id": 9000 + len(org), "node_id": "O_kgDO" + strconv.Itoa(9000+len(org)),
		"url": "https://api.github.com/orgs/" + org, "repos_url": "https://api.github.com/orgs/" + org + "/repos",
		"description": nil, "type": "Organization", "html_url": "https://github.com/" + org,
	})
}

// SetLongTokens makes minted installation tokens take the newer form,
// ghs_APPID_<JWT>, far longer than 40 characters (the prefix set by
// SetTokenPrefix starts the JWT's signature).
func (s *Server) SetLongTokens(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.long = on
}

// longToken is an installation token of the form ghs_APPID_<JWT>.
func longToken(appID int64, prefix string, seq int) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	body := enc.EncodeToString(fmt.Appendf(nil, `{"iss":"%d","sub":"installation","seq":%d,"scope":"repositories","aud":"github.com"}`, appID, seq))
	return fmt.Sprintf("ghs_%d_%s.%s.%s%04d%s", appID, head, body, prefix, seq, randomChars(300))
}
