package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The helper runs on every git fetch and push, so it stays tiny: the
// standard library and keyfob's client/pump, and of the standard library
// nothing whose start-up or size would cost more than the exchange.
var banned = map[string]string{
	"fmt":           "formatting belongs to the agent: the helper copies its words",
	"encoding/json": "the helper speaks git's lines, not JSON",
	"reflect":       "nothing on the helper's path needs reflection",
	"net":           "plain system calls do one exchange without the net poller",
	"crypto":        "fingerprints are the agent's to take",
	"os/exec":       "the helper starts keyfob with syscall.ForkExec, once per session",
}

func TestHelperDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for prefix, why := range banned {
			if dep == prefix || strings.HasPrefix(dep, prefix+"/") {
				t.Errorf("git-credential-keyfob depends on %s: %s", dep, why)
			}
		}
		if dep == "github.com/keyfob/keyfob/client" {
			t.Errorf("git-credential-keyfob depends on %s: the client package brings JSON, fmt and net", dep)
		}
		if strings.Contains(dep, ".") && dep != "github.com/keyfob/keyfob/client/pump" && dep != "github.com/keyfob/keyfob/cmd/git-credential-keyfob" {
			t.Errorf("git-credential-keyfob depends on %s: only the standard library and client/pump are allowed", dep)
		}
	}
}
