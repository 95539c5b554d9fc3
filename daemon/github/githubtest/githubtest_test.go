package githubtest

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestUser(t *testing.T) {
	s := NewServer()
	defer s.Close()
	s.AddToken("ghp_good", Account{Login: "octo", Scopes: "repo", Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)})
	tests := []struct {
		name, auth string
		status     int
		login      string
		message    string
	}{
		{"token scheme", "token ghp_good", 200, "octo", ""},
		{"bearer scheme", "Bearer ghp_good", 200, "octo", ""},
		{"wrong token", "token ghp_bad", 401, "", "Bad credentials"},
		{"basic is not a token", "Basic Z2hwX2dvb2Q=", 401, "", "Bad credentials"},
		{"no credentials", "", 401, "", "Requires authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.URL+"/user", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("GET /user with %q = %d, want %d", tt.auth, resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("X-GitHub-Media-Type"); got != "github.v3; format=json" {
				t.Errorf("X-GitHub-Media-Type = %q", got)
			}
			if tt.login != "" {
				if body["login"] != tt.login {
					t.Errorf("login = %v, want %s", body["login"], tt.login)
				}
				if got := resp.Header.Get("GitHub-Authentication-Token-Expiration"); got != "2030-01-02 03:04:05 UTC" {
					t.Errorf("expiration header = %q", got)
				}
				if got := resp.Header.Get("X-OAuth-Scopes"); got != "repo" {
					t.Errorf("X-OAuth-Scopes = %q", got)
				}
			} else if body["message"] != tt.message {
				t.Errorf("message = %v, want %s", body["message"], tt.message)
			}
		})
	}
	reqs := s.Requests()
	if len(reqs) != len(tests) || reqs[0].Scheme != "token" || !strings.HasPrefix(reqs[0].TokenFP, "sha256:") {
		t.Errorf("Requests() = %+v", reqs)
	}
}

// TestGHAPIUser drives the real gh through the fake, as the scripts do.
func TestGHAPIUser(t *testing.T) {
	gh, err := exec.LookPath("gh")
	if err != nil {
		t.Skip("gh not installed (package gh): run make deps as root")
	}
	s := NewServer()
	defer s.Close()
	s.AddToken("ghp_fromenv", Account{Login: "from-env"})
	cmd := exec.Command(gh, "api", "user")
	cmd.Env = append(os.Environ(), "GH_HOST=github.localhost", "GH_TOKEN=ghp_fromenv", "HTTP_PROXY="+s.URL, "NO_PROXY=",
		"GH_CONFIG_DIR="+t.TempDir(), "GH_NO_UPDATE_NOTIFIER=1", "GH_PROMPT_DISABLED=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gh api user: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"login": "from-env"`) {
		t.Errorf("gh api user = %s, want login from-env", out)
	}
	if r := s.Requests(); len(r) == 0 || r[len(r)-1].Scheme != "token" {
		t.Errorf("requests = %+v, want gh to send Authorization: token", r)
	}
}
