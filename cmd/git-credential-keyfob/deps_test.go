package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The helper runs on every git fetch and push, so it stays tiny: the
// standard library and keyfob's client package, nothing else.
var banned = map[string]string{
	"go.uber.org/zap":                  "logging belongs to the agent",
	"github.com/99designs/keyring":     "importing keyring starts a D-Bus session at init",
	"github.com/godbus/dbus":           "D-Bus connects at init",
	"github.com/fsnotify/fsnotify":     "config reload belongs to the agent",
	"github.com/coreos/go-systemd/v22": "systemd integration belongs to the agent",
	"github.com/keyfob/keyfob/daemon":  "the agent's packages are not for the hot path",
}

func TestHelperDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for prefix, why := range banned {
			if dep == prefix || strings.HasPrefix(dep, prefix+"/") {
				t.Errorf("git-credential-keyfob depends on %s: %s", dep, why)
			}
		}
		if dep != "github.com/keyfob/keyfob/client" && dep != "github.com/keyfob/keyfob/cmd/git-credential-keyfob" {
			t.Errorf("git-credential-keyfob depends on %s: only the standard library and client/ are allowed", dep)
		}
	}
}
