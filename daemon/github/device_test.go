package github_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

func TestDeviceFlowAndRefresh(t *testing.T) {
	srv := githubtest.NewServer()
	defer srv.Close()
	srv.AddOAuthApp(githubtest.OAuthApp{ClientID: "Iv23liTEST", Login: "mona", DeviceFlow: true})
	srv.ApproveAfter(2)
	srv.SlowDownAt(1, 3)
	ctx := context.Background()
	o := github.NewOAuth(srv.URL)

	da, err := o.DeviceCode(ctx, "Iv23liTEST", "")
	if err != nil {
		t.Fatalf("DeviceCode = %v", err)
	}
	defer da.DeviceCode.Wipe()
	if da.UserCode == "" || da.VerificationURI != "https://github.com/login/device" || da.Interval != 5*time.Second {
		t.Fatalf("DeviceCode = %+v", da)
	}
	_, err = o.PollDevice(ctx, "Iv23liTEST", da.DeviceCode)
	var oe *github.OAuthError
	if github.OAuthCode(err) != github.ErrCodeSlowDown || !asOAuth(err, &oe) || oe.Interval != 8*time.Second {
		t.Fatalf("first poll = %v, want slow_down with interval 8s", err)
	}
	if _, err := o.PollDevice(ctx, "Iv23liTEST", da.DeviceCode); github.OAuthCode(err) != github.ErrCodePending {
		t.Fatalf("second poll = %v, want authorization_pending", err)
	}
	ut, err := o.PollDevice(ctx, "Iv23liTEST", da.DeviceCode)
	if err != nil {
		t.Fatalf("third poll = %v", err)
	}
	if !strings.HasPrefix(ut.Access.Reveal(), "ghu_") || !strings.HasPrefix(ut.Refresh.Reveal(), "ghr_") || ut.Expires.IsZero() || ut.RefreshExpires.IsZero() {
		t.Fatalf("token = %v %v %v %v", ut.Access.Reveal(), ut.Refresh.Reveal(), ut.Expires, ut.RefreshExpires)
	}
	if v, err := github.New(srv.API).Validate(ctx, ut.Access); err != nil || v.Login != "mona" || v.Expires.IsZero() {
		t.Fatalf("Validate(user token) = %+v, %v", v, err)
	}

	// A refresh answers a new pair; the old refresh token and the old
	// access token stop working at once.
	next, err := o.Refresh(ctx, "Iv23liTEST", ut.Refresh)
	if err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	if next.Access.Equal(ut.Access) || next.Refresh.Equal(ut.Refresh) {
		t.Fatal("Refresh answered the old pair")
	}
	if _, err := o.Refresh(ctx, "Iv23liTEST", ut.Refresh); github.OAuthCode(err) != github.ErrCodeBadRefreshToken {
		t.Fatalf("Refresh(old) = %v, want bad_refresh_token", err)
	}
	if _, err := github.New(srv.API).Validate(ctx, ut.Access); !github.IsInvalid(err) {
		t.Fatalf("Validate(old access token) = %v, want 401", err)
	}
	if _, err := github.New(srv.API).Validate(ctx, next.Access); err != nil {
		t.Fatalf("Validate(new access token) = %v", err)
	}
	if n := srv.Refreshes(); n != 1 {
		t.Fatalf("Refreshes() = %d, want 1", n)
	}
}

func asOAuth(err error, oe **github.OAuthError) bool {
	e, ok := err.(*github.OAuthError)
	*oe = e
	return ok
}

func TestDeviceFlowErrors(t *testing.T) {
	srv := githubtest.NewServer()
	defer srv.Close()
	srv.AddOAuthApp(githubtest.OAuthApp{ClientID: "Iv23liOFF", Login: "mona"})
	ctx := context.Background()
	o := github.NewOAuth(srv.URL)
	for _, tc := range []struct{ id, want string }{
		{"Iv23liWRONG", github.ErrCodeClientID},
		{"Iv23liOFF", github.ErrCodeDeviceFlowOff},
	} {
		if _, err := o.DeviceCode(ctx, tc.id, ""); github.OAuthCode(err) != tc.want {
			t.Errorf("DeviceCode(%q) = %v, want %s", tc.id, err, tc.want)
		}
	}
	if _, err := o.Refresh(ctx, "Iv23liOFF", client.NewSecret("ghr_nothing")); github.OAuthCode(err) != github.ErrCodeBadRefreshToken {
		t.Errorf("Refresh(unknown) = %v, want bad_refresh_token", err)
	}
	if _, err := github.NewOAuth("http://127.0.0.1:1").DeviceCode(ctx, "x", ""); err == nil || !strings.Contains(err.Error(), github.ErrUnreachable.Error()) {
		t.Errorf("DeviceCode(closed port) = %v, want unreachable", err)
	}
}

// TestFakeAnswersFormUnlessJSON checks the fake the way GitHub answers:
// form-encoded by default, JSON on Accept: application/json, and 200 for
// an OAuth error.
func TestFakeAnswersFormUnlessJSON(t *testing.T) {
	srv := githubtest.NewServer()
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+"/login/device/code", url.Values{"client_id": {"nobody"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	q, err := url.ParseQuery(string(b))
	if resp.StatusCode != 200 || err != nil || q.Get("error") != "incorrect_client_credentials" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		t.Fatalf("POST /login/device/code = %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}
