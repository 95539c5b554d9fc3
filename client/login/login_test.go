package login

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
)

// TestRunPollsUntilApproved: the code is shown on stderr, each poll sends
// the device code back, a new interval from the agent (slow_down) is
// honoured, and the token the agent stored ends it.
func TestRunPollsUntilApproved(t *testing.T) {
	polls := 0
	var waits []time.Duration
	call := func(req *client.Request, _ time.Duration) (*client.Response, error) {
		switch req.Op {
		case client.OpLoginStart:
			return &client.Response{Login: &client.LoginInfo{VerificationURI: "https://github.com/login/device", UserCode: "WDJB-1234", Interval: 5, ExpiresIn: 900},
				Secret: client.NewSecret("device-code")}, nil
		case client.OpLoginPoll:
			if req.Secret.Reveal() != "device-code" {
				t.Errorf("poll sent %q, want the device code", req.Secret.Reveal())
			}
			if polls++; polls < 3 {
				return &client.Response{Login: &client.LoginInfo{Pending: true, Interval: 10}}, nil
			}
			return &client.Response{Tokens: []client.TokenInfo{{Name: "octocat@github.com", Login: "octocat", Kind: "user (refreshes)"}}}, nil
		}
		t.Fatalf("unexpected op %s", req.Op)
		return nil, nil
	}
	var stderr bytes.Buffer
	resp, err := Run(call, &client.LoginSpec{ClientID: "Iv1"}, "", false, &stderr, func(d time.Duration) { waits = append(waits, d) })
	if err != nil || resp.Tokens[0].Name != "octocat@github.com" {
		t.Fatalf("Run = %+v, %v", resp, err)
	}
	if !strings.Contains(stderr.String(), "keyfob: open https://github.com/login/device and enter the code WDJB-1234") {
		t.Errorf("stderr = %q", stderr.String())
	}
	if len(waits) != 3 || waits[0] != 5*time.Second || waits[1] != 10*time.Second {
		t.Errorf("waits = %v, want 5s then the 10s the agent asked for", waits)
	}
	if d := Describe(resp.Tokens[0]); d != "; as octocat, user (refreshes)" {
		t.Errorf("Describe = %q", d)
	}
}
