package ghenv

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
)

func TestNoToken(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&client.Error{Code: client.CodeNotFound, Message: "no token for this remote"}, true},
		{fmt.Errorf("call: %w", &client.Error{Code: client.CodeNotFound, Message: "no token for this remote"}), true},
		{&client.Error{Code: client.CodeNotFound, Message: "no token named work"}, false},
		{&client.Error{Code: client.CodeDenied, Message: "no token for this remote"}, false},
		{errors.New("agent not running at /run/keyfob/agent.sock: connection refused"), true},
		{errors.New("token personal is invalid"), false},
		{nil, false},
	} {
		if why, got := NoToken(c.err); got != c.want || (got && why == "") {
			t.Errorf("NoToken(%v) = %q, %v; want %v", c.err, why, got, c.want)
		}
	}
}

func TestRunUntouched(t *testing.T) {
	t.Setenv("GH_TOKEN", "ghp_canaryOWN")
	var stdout, stderr strings.Builder
	code, err := RunUntouched([]string{"sh", "-c", `echo "$GH_TOKEN"; exit 3`}, strings.NewReader(""), &stdout, &stderr, "no token for this remote")
	if err != nil || code != 3 || stdout.String() != "ghp_canaryOWN\n" {
		t.Errorf("RunUntouched = %d, %v, stdout %q; want 3 and the environment as it was", code, err, stdout.String())
	}
	if want := "keyfob: hint: no token for this remote, so sh runs with its own login (keyfob exec --fallback)\n"; stderr.String() != want {
		t.Errorf("RunUntouched stderr = %q, want %q", stderr.String(), want)
	}
}
