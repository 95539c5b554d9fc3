package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

// githubAPIDevice runs the device-flow subcommands of githubapi:
//
//	oauthapp CLIENTID LOGIN [nodevice]  an app whose codes LOGIN approves
//	approve N | deny N | expire N       new codes: pending for N polls, then approved, denied or expired
//	slowdown N ADD                      answer slow_down at poll N, raising the interval by ADD s
//	interval SEC                        the interval new codes ask for
//	lifetime ACCESS REFRESH             how long new user tokens and refresh tokens live (Go durations)
//	revokeusers CLIENTID                revoke every user and refresh token of the app
//	usertokens OWNER                    the git server accepts each user token for OWNER's repositories
//	refreshes                           print "refreshes: N"
//	waitrefreshes N                     wait up to 120 s until the fake answered N refreshes
//	waitrefused N                       wait up to 120 s until it refused N refreshes (bad_refresh_token)
func githubAPIDevice(ts *testscript.TestScript, st *scriptState, args []string) {
	if st.api == nil {
		ts.Fatalf("githubapi %s: run githubapi start first", args[0])
	}
	api := st.api
	num := func(i int) int {
		if len(args) <= i {
			ts.Fatalf("githubapi %s: missing argument", args[0])
		}
		n, err := strconv.Atoi(args[i])
		ts.Check(err)
		return n
	}
	switch args[0] {
	case "oauthapp":
		if len(args) < 3 {
			ts.Fatalf("usage: githubapi oauthapp CLIENTID LOGIN [nodevice]")
		}
		api.AddOAuthApp(githubtest.OAuthApp{ClientID: args[1], Login: args[2], DeviceFlow: len(args) < 4 || args[3] != "nodevice"})
	case "approve":
		api.ApproveAfter(num(1))
	case "deny":
		api.DenyAfter(num(1))
	case "expire":
		api.ExpireAfter(num(1))
	case "slowdown":
		api.SlowDownAt(num(1), num(2))
	case "interval":
		api.SetDeviceInterval(num(1))
	case "lifetime":
		if len(args) != 3 {
			ts.Fatalf("usage: githubapi lifetime ACCESS REFRESH")
		}
		acc, err := time.ParseDuration(args[1])
		ts.Check(err)
		ref, err := time.ParseDuration(args[2])
		ts.Check(err)
		api.SetUserTokenLifetime(acc, ref)
	case "revokeusers":
		api.RevokeUserTokens(args[1])
	case "usertokens":
		git := st.git
		if git == nil {
			ts.Fatalf("githubapi usertokens: run gitserver start first")
		}
		owner := args[1]
		api.OnUserToken(func(token, _ string) { git.Allow(owner, token) }, git.RevokeToken)
	case "refreshes":
		fmt.Fprintf(ts.Stdout(), "refreshes: %d\n", api.Refreshes())
	case "waitrefreshes", "waitrefused":
		want, count := num(1), api.Refreshes
		if args[0] == "waitrefused" {
			count = api.RefusedRefreshes
		}
		for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if count() >= want {
				return
			}
		}
		ts.Fatalf("githubapi %s: %d, not %d, within 120s", args[0], count(), want)
	}
}
