package ghenv

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
)

func TestGrantEnv(t *testing.T) {
	env := []string{"HOME=/h", "GH_TOKEN=canary-ghenv-1", "GITHUB_TOKEN=canary-ghenv-2", "KEYFOB_SOCKET=/old",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=user.name", "GIT_CONFIG_VALUE_0=me"}
	sock := GrantEnv(env, client.GrantInfo{Mode: client.GrantSocket, Path: "/g/keyfob.sock"}, "/bin/helper")
	want := []string{"HOME=/h", "GIT_CONFIG_KEY_0=user.name", "GIT_CONFIG_VALUE_0=me",
		"KEYFOB_SOCKET=/g/keyfob.sock", "KEYFOB_AUTOSTART=0",
		"GIT_CONFIG_KEY_1=credential.helper", "GIT_CONFIG_VALUE_1=",
		"GIT_CONFIG_KEY_2=credential.helper", "GIT_CONFIG_VALUE_2=/bin/helper",
		"GIT_CONFIG_KEY_3=credential.useHttpPath", "GIT_CONFIG_VALUE_3=true", "GIT_CONFIG_COUNT=4"}
	if !slices.Equal(sock, want) {
		t.Errorf("GrantEnv(socket) =\n%q\nwant\n%q", sock, want)
	}
	file := GrantEnv(env, client.GrantInfo{Mode: client.GrantFile, Path: "/g/token"}, "/bin/helper")
	if !slices.Contains(file, "GH_TOKEN_FILE=/g/token") || slices.ContainsFunc(file, func(kv string) bool {
		return kv == "GH_TOKEN=canary-ghenv-1" || kv == "GITHUB_TOKEN=canary-ghenv-2" || kv == "KEYFOB_SOCKET=/old"
	}) {
		t.Errorf("GrantEnv(file) = %q, want GH_TOKEN_FILE and no token or socket of the caller's", file)
	}
}

func TestHosts(t *testing.T) {
	list := func() (*client.Response, error) {
		return &client.Response{Tokens: []client.TokenInfo{{Name: "a", Hosts: []string{"github.com"}}, {Name: "ent", Hosts: []string{"ghe.example"}}}}, nil
	}
	byURL := &client.Request{Op: client.OpToken, Cred: &client.Credential{Host: "ghe.example:8443"}}
	if h := Hosts(byURL, "a", list); !slices.Equal(h, []string{"ghe.example:8443"}) {
		t.Errorf("Hosts(by URL) = %q, want the request's host", h)
	}
	if h := Hosts(&client.Request{Op: client.OpToken, Name: "ent"}, "ent", list); !slices.Equal(h, []string{"ghe.example"}) {
		t.Errorf("Hosts(by name) = %q, want the token's hosts", h)
	}
}

// RunGrant makes the grant, runs the command with its socket, and revokes
// it after, whatever the command's exit status; a failed revoke warns.
func TestRunGrant(t *testing.T) {
	for _, c := range []struct {
		revokeErr error
		warn      string
	}{
		{nil, ""},
		{&client.Error{Code: client.CodeNotFound, Message: "no grant"}, ""}, // it ended already
		{errors.New("agent not running"), "keyfob: warning: revoke grant g1: agent not running; it ends at "},
	} {
		var ops []string
		call := func(req *client.Request) (*client.Response, error) {
			ops = append(ops, req.Op+" "+req.Name)
			if req.Op == client.OpRevoke {
				return nil, c.revokeErr
			}
			return &client.Response{Grants: []client.GrantInfo{{Label: "g1", Mode: client.GrantSocket, Path: "/g/keyfob.sock", Expires: time.Now().Add(time.Hour)}}}, nil
		}
		var stdout, stderr strings.Builder
		code, err := RunGrant(call, &client.GrantSpec{URLs: []string{"github.com/o/r"}}, "/bin/helper",
			[]string{"sh", "-c", `echo "$KEYFOB_SOCKET"; exit 5`}, strings.NewReader(""), &stdout, &stderr)
		if err != nil || code != 5 || stdout.String() != "/g/keyfob.sock\n" {
			t.Errorf("RunGrant = %d, %v, stdout %q; want 5 and the grant's socket", code, err, stdout.String())
		}
		if want := []string{client.OpGrant + " ", client.OpRevoke + " g1"}; !slices.Equal(ops, want) {
			t.Errorf("RunGrant asked %q, want %q", ops, want)
		}
		if !strings.HasPrefix(stderr.String(), c.warn) || (c.warn == "" && stderr.String() != "") {
			t.Errorf("RunGrant stderr = %q, want %q", stderr.String(), c.warn)
		}
	}
}
