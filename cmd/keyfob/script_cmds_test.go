package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

// githubapi start | token TOKEN LOGIN
//
// start runs the fake GitHub API and points gh at it: GH_HOST is
// github.localhost and HTTP_PROXY the fake, so gh's requests for
// api.github.localhost reach it (RECIPES: gh against a local fake API).
// token makes TOKEN authenticate as LOGIN. app sets up a GitHub App
// (githubAPIApp); log and mints print what the fake saw and minted.
func cmdGitHubAPI(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: githubapi start|token TOKEN LOGIN")
	}
	st := ts.Value("state").(*scriptState)
	switch args[0] {
	case "start":
		// start [enterprise] [tls]: enterprise serves under /api/v3
		// (GITHUB_API is the base with it) and sets GHE_HOST to the
		// fake's host:port; tls serves https and points SSL_CERT_FILE
		// at its certificate, for the agent and gh alike.
		var o githubtest.Options
		for _, a := range args[1:] {
			switch a {
			case "enterprise":
				o.PathPrefix = "/api/v3"
			case "tls":
				o.TLS = true
			default:
				ts.Fatalf("githubapi start: unknown option %q", a)
			}
		}
		s := githubtest.NewServerWith(o)
		ts.Defer(s.Close)
		st.api = s
		ts.Setenv("GITHUB_API", s.API)
		ts.Setenv("GITHUB_URL", s.URL)
		ts.Setenv("GHE_HOST", strings.TrimPrefix(strings.TrimPrefix(s.URL, "https://"), "http://"))
		if o.TLS {
			ca := ts.MkAbs("ghe-ca.pem")
			ts.Check(os.WriteFile(ca, s.CertPEM(), 0o600))
			ts.Setenv("SSL_CERT_FILE", ca)
		}
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
	case "fail":
		// fail STATUS: every answer is STATUS (0: answer again)
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		st.api.Fail(n)
	case "sso":
		// sso ORG [TOKEN...]: ORG enforces SAML SSO; TOKENs are authorized
		st.api.SSO(args[1])
		for _, t := range args[2:] {
			st.api.AuthorizeSSO(args[1], t)
		}
	case "longtokens":
		// longtokens: minted tokens are ghs_APPID_<JWT>
		st.api.SetLongTokens(true)
	case "app":
		githubAPIApp(ts, st, args[1:])
	case "oauthapp", "approve", "deny", "expire", "slowdown", "interval", "lifetime", "revokeusers", "refreshes", "usertokens", "waitrefreshes", "waitrefused":
		githubAPIDevice(ts, st, args)
	case "log":
		// log: every request the fake saw, "METHOD PATH STATUS"
		for _, r := range st.api.Requests() {
			fmt.Fprintf(ts.Stdout(), "%s %s %d\n", r.Method, r.Path, r.Status)
		}
	case "mints":
		// mints: "mints: N", then one line per minted token
		ms := st.api.Mints()
		fmt.Fprintf(ts.Stdout(), "mints: %d\n", len(ms))
		for _, m := range ms {
			fmt.Fprintf(ts.Stdout(), "installation %d repositories=%s permissions=%v revoked=%v\n",
				m.Installation, strings.Join(m.Repositories, ","), m.Permissions, m.Revoked)
		}
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

// githubAPIApp is githubapi app APPID INSTALLATION OWNER KEYFILE [REPO...]:
// the fake knows the app (its key written to KEYFILE, PEM) installed on
// OWNER (only REPOs, when given). Every token it mints starts with
// ghs_canaryMINT, and the git server, when started, accepts it for the
// repositories it was scoped to and no other; a revoked token is refused
// again. KEYCANARY is set to a line from the middle of the key.
func githubAPIApp(ts *testscript.TestScript, st *scriptState, args []string) {
	if st.api == nil || len(args) < 4 {
		ts.Fatalf("usage: githubapi start, then githubapi app APPID INSTALLATION OWNER KEYFILE [REPO...]")
	}
	appID, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	inst, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	key := githubtest.Key(0)
	pem := githubtest.KeyPEM(key)
	ts.Check(os.WriteFile(ts.MkAbs(args[3]), pem, 0o600))
	ts.Setenv("KEYCANARY", strings.Split(string(pem), "\n")[5])
	st.api.AddApp(appID, &key.PublicKey)
	st.api.AddInstallation(githubtest.Installation{ID: inst, AppID: appID, Owner: args[2], Repos: args[4:]})
	st.api.SetTokenPrefix("canaryMINT")
	git := st.git
	st.api.OnMint(func(token, owner string, repos []string) {
		if git == nil {
			return
		}
		for _, full := range repos {
			o, r, _ := strings.Cut(full, "/")
			git.AllowRepo(o, r, token)
		}
	}, func(token string) {
		if git != nil {
			git.RevokeToken(token)
		}
	})
}
