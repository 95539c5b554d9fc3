package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

// githubapi start | token TOKEN LOGIN
//
// start runs the fake GitHub API and points gh at it: GH_HOST is
// github.localhost and HTTP_PROXY the fake, so gh's requests for
// api.github.localhost reach it (RECIPES: gh against a local fake API).
// token makes TOKEN authenticate as LOGIN.
func cmdGitHubAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: githubapi start|token TOKEN LOGIN")
	}
	st := ts.Value("state").(*scriptState)
	switch args[0] {
	case "start":
		s := githubtest.NewServer()
		ts.Defer(s.Close)
		st.api = s
		ts.Setenv("GITHUB_API", s.URL)
		for k, v := range map[string]string{
			"GH_HOST":               "github.localhost",
			"HTTP_PROXY":            s.URL,
			"HTTPS_PROXY":           "",
			"NO_PROXY":              "",
			"GH_CONFIG_DIR":         ts.MkAbs("gh-config"),
			"GH_NO_UPDATE_NOTIFIER": "1",
			"GH_PROMPT_DISABLED":    "1",
			"GH_TOKEN":              "",
			"GITHUB_TOKEN":          "",
			"GH_ENTERPRISE_TOKEN":   "",
		} {
			ts.Setenv(k, v)
		}
	case "token":
		// token TOKEN LOGIN [SCOPES [EXPIRES]]
		if st.api == nil || len(args) < 3 || len(args) > 5 {
			ts.Fatalf("usage: githubapi start, then githubapi token TOKEN LOGIN [SCOPES [EXPIRES]]")
		}
		acct := githubtest.Account{Login: args[2]}
		if len(args) > 3 {
			acct.Scopes = args[3]
		}
		if len(args) > 4 {
			exp, err := time.Parse("2006-01-02 15:04:05 MST", args[4])
			ts.Check(err)
			acct.Expires = exp
		}
		st.api.AddToken(args[1], acct)
	case "revoke":
		st.api.RevokeToken(args[1])
	case "repo":
		// repo OWNER REPO NEED [TOKEN...]: TOKENs may read it, others get 403 naming NEED
		st.api.Repo(args[1], args[2], args[3], args[4:]...)
	case "down":
		st.api.Close()
	default:
		ts.Fatalf("githubapi: unknown subcommand %q", args[0])
	}
}

// expand SRC DST writes SRC to DST with $VAR and ${VAR} replaced by the
// script's environment (config files need the git server's port).
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	dst := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(dst), 0o700))
	ts.Check(os.WriteFile(dst, []byte(os.Expand(ts.ReadFile(args[0]), ts.Getenv)), 0o600))
}
