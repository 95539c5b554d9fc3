// Package gitserver runs git's own smart-HTTP server, git-http-backend,
// behind basic auth on 127.0.0.1, for tests and the demo. Each owner (the
// first path segment) accepts only the tokens set for it, and each
// repository also the tokens set for it alone.
package gitserver

import (
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Backend is git-http-backend's usual location on Debian.
const Backend = "/usr/lib/git-core/git-http-backend"

// Attempt records one authenticated request.
type Attempt struct {
	User, Password, Path string
	OK                   bool
}

// Server is a running git server.
type Server struct {
	// URL is the base, http://127.0.0.1:PORT.
	URL  string
	Root string

	srv      *http.Server
	mu       sync.Mutex
	tokens   map[string][]string // owner -> accepted passwords
	repos    map[string][]string // "owner/repo" -> passwords accepted for that repository only
	attempts []Attempt
}

// Start serves the bare repositories under root.
func Start(root string) (*Server, error) {
	backend := Backend
	if out, err := exec.Command("git", "--exec-path").Output(); err == nil {
		backend = filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	}
	if _, err := os.Stat(backend); err != nil {
		return nil, fmt.Errorf("git-http-backend not found (install git): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), Root: root, tokens: map[string][]string{}, repos: map[string][]string{}}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		repo, _, _ := strings.Cut(rest, "/")
		user, pass, ok := r.BasicAuth()
		granted := ok && s.accepts(owner, strings.TrimSuffix(repo, ".git"), pass)
		if ok {
			s.mu.Lock()
			s.attempts = append(s.attempts, Attempt{User: user, Password: pass, Path: r.URL.Path, OK: granted})
			s.mu.Unlock()
		}
		if !granted {
			w.Header().Set("WWW-Authenticate", `Basic realm="keyfob test git server"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		h := &cgi.Handler{
			Path: backend,
			Root: "/",
			Env: []string{
				"GIT_PROJECT_ROOT=" + root,
				"GIT_HTTP_EXPORT_ALL=1",
				"REMOTE_USER=" + user,
			},
		}
		h.ServeHTTP(w, r)
	})}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *Server) accepts(owner, repo, pass string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range slices.Concat(s.tokens[owner], s.repos[owner+"/"+repo]) {
		if subtle.ConstantTimeCompare([]byte(t), []byte(pass)) == 1 {
			return true
		}
	}
	return false
}

// Allow makes owner's repositories accept token (in addition to any set before).
func (s *Server) Allow(owner, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[owner] = append(s.tokens[owner], token)
}

// AllowRepo makes owner/repo, and no other repository, accept token (a
// token minted for one repository).
func (s *Server) AllowRepo(owner, repo, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[owner+"/"+repo] = append(s.repos[owner+"/"+repo], token)
}

// RevokeToken makes every repository refuse token.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, ts := range s.repos {
		s.repos[k] = slices.DeleteFunc(ts, func(t string) bool { return t == token })
	}
	for k, ts := range s.tokens {
		s.tokens[k] = slices.DeleteFunc(ts, func(t string) bool { return t == token })
	}
}

// Revoke makes owner's repositories accept no token: every request gets 401.
func (s *Server) Revoke(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, owner)
}

// Attempts returns the authenticated requests seen so far.
func (s *Server) Attempts() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Attempt(nil), s.attempts...)
}

// CreateRepo makes a bare repository owner/name.git with one commit on main.
func (s *Server) CreateRepo(owner, name string) error {
	bare := filepath.Join(s.Root, owner, name+".git")
	work, err := os.MkdirTemp("", "gitserver-seed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	steps := [][]string{
		{"init", "-q", "--bare", "-b", "main", bare},
		{"-C", work, "init", "-q", "-b", "main"},
		{"-C", work, "-c", "user.name=keyfob", "-c", "user.email=keyfob@localhost", "commit", "-q", "--allow-empty", "-m", "first commit in " + owner + "/" + name},
		{"-C", work, "push", "-q", bare, "main"},
		{"-C", bare, "config", "http.receivepack", "true"},
	}
	for _, args := range steps {
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// RepoURL returns the clone URL of owner/name.
func (s *Server) RepoURL(owner, name string) string {
	return s.URL + "/" + owner + "/" + name + ".git"
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }
