package githubtest

import (
	"net/http"
)

// Repo makes owner/repo exist. Tokens listed in access can read it; every
// other valid token gets GitHub's 403 for a fine-grained token without the
// permission, with X-Accepted-GitHub-Permissions naming need (for example
// "contents=read").
func (s *Server) Repo(owner, repo, need string, access ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.repos == nil {
		s.repos = map[string]map[string]string{}
	}
	m := map[string]string{"": need}
	for _, t := range access {
		m[t] = ""
	}
	s.repos[owner+"/"+repo] = m
}

func (s *Server) repo(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.account(w, r); !ok {
		return
	}
	if s.ssoBlocked(w, r, r.PathValue("owner")) {
		return
	}
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	_, tok := credentials(r)
	s.mu.Lock()
	m, exists := s.repos[full]
	need, denied := "", false
	if exists {
		if _, ok := m[tok]; !ok {
			need, denied = m[""], true
		}
	}
	s.mu.Unlock()
	switch {
	case !exists:
		writeJSON(w, http.StatusNotFound, map[string]string{
			"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository", "status": "404",
		})
	case denied:
		w.Header().Set("X-Accepted-GitHub-Permissions", need)
		writeJSON(w, http.StatusForbidden, map[string]string{
			"message":           "Resource not accessible by personal access token",
			"documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
			"status":            "403",
		})
	default:
		writeJSON(w, http.StatusOK, map[string]any{
			"id": 1, "name": r.PathValue("repo"), "full_name": full, "private": true,
			"owner":       map[string]any{"login": r.PathValue("owner")},
			"permissions": map[string]bool{"admin": false, "push": true, "pull": true},
		})
	}
}
