package plaintext

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
)

// listing answers OpList with the tokens given, as the agent would.
func listing(toks ...client.TokenInfo) Call {
	return func(req *client.Request) (*client.Response, error) {
		if req.Op != client.OpList {
			return nil, errors.New("unexpected op " + req.Op)
		}
		return &client.Response{Tokens: toks}, nil
	}
}

// Remove scrubs a source only after every token reads back from the
// agent with its secret, and says what it removed.
func TestRemove(t *testing.T) {
	p := write(t, "creds", "https://u:ghp_canaryREMOVE1@github.com\nhttps://v:ghp_canaryREMOVE2@example.com\n")
	found, err := ReadGitCredentials(p)
	if err != nil || len(found) != 2 {
		t.Fatalf("ReadGitCredentials = %v, %v", found, err)
	}
	results := []Result{{Found: found[0], Name: found[0].Name()}, {Found: found[1], Name: found[1].Name()}}

	// One token is not held with its secret: nothing is removed.
	var out strings.Builder
	err = Remove(&out, listing(client.TokenInfo{Name: found[0].Name(), Fingerprint: found[0].Secret.Fingerprint()}), GitCredentials, found, results)
	var h *HintError
	if !errors.As(err, &h) || !strings.Contains(err.Error(), "nothing was removed") || out.Len() != 0 {
		t.Fatalf("Remove with a token missing = %v, said %q; want a hint and nothing removed", err, out.String())
	}
	if b, _ := os.ReadFile(p); strings.Count(string(b), "\n") != 2 {
		t.Fatalf("source after a refused Remove:\n%s", b)
	}

	held := listing(client.TokenInfo{Name: found[0].Name(), Fingerprint: found[0].Secret.Fingerprint()},
		client.TokenInfo{Name: found[1].Name(), Fingerprint: found[1].Secret.Fingerprint()})
	if err := Remove(&out, held, GitCredentials, found, results); err != nil || out.String() != "removed 2 entries from "+p+"\n" {
		t.Fatalf("Remove = %v, said %q", err, out.String())
	}
	if b, _ := os.ReadFile(p); strings.Contains(string(b), "canary") {
		t.Errorf("source after Remove still holds a token:\n%s", b)
	}
}

func TestDryRunAndReport(t *testing.T) {
	p := write(t, "creds", "https://u:ghp_canaryREPORT00000000wxyz@github.com\n")
	found, err := ReadGitCredentials(p)
	if err != nil || len(found) != 1 {
		t.Fatalf("ReadGitCredentials = %v, %v", found, err)
	}
	var out strings.Builder
	DryRun(&out, found, "")
	if want := "would import git:u@github.com (ghp_****wxyz) for github.com from " + p + ":1\n"; out.String() != want {
		t.Errorf("DryRun wrote %q, want %q", out.String(), want)
	}
	out.Reset()
	DryRun(&out, found, "work")
	if !strings.HasPrefix(out.String(), "would import work (") {
		t.Errorf("DryRun(name work) wrote %q", out.String())
	}

	var stdout, stderr strings.Builder
	failed := Report(&stdout, &stderr, []Result{
		{Found: found[0], Name: "a", Info: client.TokenInfo{Masked: "ghp_****wxyz"}, Warnings: []string{"offline"}},
		{Found: found[0], Name: "b", Already: true},
		{Found: found[0], Name: "c", Err: errors.New("agent is locked")},
	})
	if failed != 1 {
		t.Errorf("Report = %d failed, want 1", failed)
	}
	for _, want := range []string{"imported a (ghp_****wxyz) for github.com from " + p + ":1", "already in keyfob: b (ghp_****wxyz)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("Report stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, want := range []string{"keyfob: warning: offline\n", "keyfob: error: c from " + p + ":1: agent is locked\n"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("Report stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stdout.String()+stderr.String(), "canary") {
		t.Error("Report printed a secret")
	}
}
