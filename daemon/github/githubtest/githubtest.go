// Package githubtest runs a small fake of the GitHub REST API for tests: an
// HTTP server that answers the way api.github.com does, with GitHub's
// headers and JSON, for the tokens it is given. It serves GET /user, GET
// /repos/{owner}/{repo}, a GitHub App's endpoints (apps.go), and the
// device flow and user-token refreshes at the web base (device.go). It can
// also act as the HTTP proxy gh is pointed at (HTTP_PROXY with
// GH_HOST=github.localhost), because it answers by path whatever the host.
package githubtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Account is what the fake knows about a token's owner.
type Account struct {
	Login string
	ID    int64
	// Scopes is sent in X-OAuth-Scopes (classic tokens); "" for
	// fine-grained tokens, which get no such header.
	Scopes string
	// Expires, when set, is sent in GitHub-Authentication-Token-Expiration.
	Expires time.Time
}

// Request is one request the fake saw.
type Request struct {
	Method, Path string
	// Scheme is the Authorization scheme ("token", "Bearer"), "" if none.
	Scheme string
	// TokenFP is a short SHA-256 prefix of the token sent, "" if none.
	TokenFP string
	Status  int
}

// Server is a running fake API.
type Server struct {
	// URL is the server's URL, http://127.0.0.1:PORT.
	URL string
	// API is the API base: URL, or URL/api/v3 for an Enterprise fake.
	API string

	srv      *httptest.Server
	mu       sync.Mutex
	accounts map[string]Account // token -> account
	reqs     []Request
	nextID   int64
	repos    map[string]map[string]string // "owner/repo" -> token -> "" (access) or the missing permission
	app      appState                     // apps.go
	mux      *http.ServeMux
	failing  int                        // Fail
	sso      map[string]map[string]bool // org -> tokens authorized (ghe.go)
	orgs     map[string]bool
	// enterprise: an Enterprise Server fake (NewEnterpriseServer).
	enterprise bool
	// device is the device flow and user tokens (device.go).
	device *deviceState
}

// NewServer starts a fake API on 127.0.0.1. Close it when done.
func NewServer() *Server { return NewServerWith(Options{}) }

func newServer() *Server {
	s := &Server{accounts: map[string]Account{}, nextID: 1000, device: newDeviceState()}
	mux := http.NewServeMux()
	s.mux = mux
	s.deviceRoutes(mux)
	mux.HandleFunc("GET /orgs/{org}", s.org)
	mux.HandleFunc("GET /meta", s.meta)
	mux.HandleFunc("GET /user", s.user)
	mux.HandleFunc("GET /repos/{owner}/{repo}", s.repo)
	mux.HandleFunc("GET /app/installations/{id}", s.getInstallation)
	mux.HandleFunc("GET /orgs/{owner}/installation", s.ownerInstallation(false))
	mux.HandleFunc("GET /users/{owner}/installation", s.ownerInstallation(true))
	mux.HandleFunc("POST /app/installations/{id}/access_tokens", s.accessToken)
	mux.HandleFunc("DELETE /installation/token", s.revokeToken)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{
			"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404",
		})
	})
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AddToken makes token authenticate as a.
func (s *Server) AddToken(token string, a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.ID == 0 {
		s.nextID++
		a.ID = s.nextID
	}
	s.accounts[token] = a
}

// RevokeToken makes token fail with 401 Bad credentials.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.accounts, token)
}

// Requests returns the requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		commonHeaders(w)
		if st := s.failStatus(); st != 0 {
			writeJSON(rec, st, map[string]string{"message": http.StatusText(st), "documentation_url": "https://www.githubstatus.com", "status": strconv.Itoa(st)})
		} else {
			h.ServeHTTP(rec, r)
		}
		s.note(r, rec.status)
	})
}

// note records a request the fake saw.
func (s *Server) note(r *http.Request, status int) {
	scheme, tok := credentials(r)
	req := Request{Method: r.Method, Path: r.URL.Path, Scheme: scheme, Status: status}
	if tok != "" {
		sum := sha256.Sum256([]byte(tok))
		req.TokenFP = "sha256:" + hex.EncodeToString(sum[:])[:12]
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
}

// commonHeaders are the headers api.github.com sends on every answer.
func commonHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-GitHub-Request-Id", "0000:0000:0000:0000:00000000")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "deny")
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP,Accept-Encoding, Accept, X-Requested-With")
}

// credentials returns the Authorization scheme and token. GitHub accepts
// "token T" and "Bearer T".
func credentials(r *http.Request) (scheme, token string) {
	a := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(a, " ")
	if !ok {
		return "", ""
	}
	return scheme, strings.TrimSpace(token)
}

// account authenticates r: the account, or false after writing GitHub's
// 401 answer.
func (s *Server) account(w http.ResponseWriter, r *http.Request) (Account, bool) {
	scheme, tok := credentials(r)
	if strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "bearer") {
		s.mu.Lock()
		defer s.mu.Unlock()
		for t, a := range s.accounts {
			if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
				return a, true
			}
		}
	}
	if scheme == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user", "status": "401",
		})
		return Account{}, false
	}
	writeJSON(w, http.StatusUnauthorized, map[string]string{
		"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401",
	})
	return Account{}, false
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) {
	a, ok := s.account(w, r)
	if !ok {
		return
	}
	h := w.Header()
	reset := time.Now().Add(time.Hour).Unix()
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("X-RateLimit-Used", "1")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	h.Set("X-RateLimit-Resource", "core")
	if a.Scopes != "" {
		h.Set("X-OAuth-Scopes", a.Scopes)
		h.Set("X-Accepted-OAuth-Scopes", "")
	}
	if !a.Expires.IsZero() {
		h.Set("GitHub-Authentication-Token-Expiration", a.Expires.UTC().Format("2006-01-02 15:04:05 MST"))
	}
	base := "https://api.github.com/users/" + a.Login
	writeJSON(w, http.StatusOK, map[string]any{
		"login":                     a.Login,
		"id":                        a.ID,
		"node_id":                   "U_kgDO" + strconv.FormatInt(a.ID, 10),
		"avatar_url":                "https://avatars.githubusercontent.com/u/" + strconv.FormatInt(a.ID, 10) + "?v=4",
		"gravatar_id":               "",
		"url":                       base,
		"html_url":                  "https://github.com/" + a.Login,
		"repos_url":                 base + "/repos",
		"type":                      "User",
		"user_view_type":            "private",
		"site_admin":                false,
		"name":                      nil,
		"company":                   nil,
		"blog":                      "",
		"location":                  nil,
		"email":                     nil,
		"hireable":                  nil,
		"bio":                       nil,
		"twitter_username":          nil,
		"public_repos":              0,
		"public_gists":              0,
		"followers":                 0,
		"following":                 0,
		"created_at":                "2020-01-01T00:00:00Z",
		"updated_at":                "2024-01-01T00:00:00Z",
		"two_factor_authentication": true,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
