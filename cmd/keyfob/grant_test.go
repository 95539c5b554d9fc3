package main

import (
	"errors"
	"os"
	"os/exec"
	"os/user"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestGrantScripts runs testdata/grant/*.txtar: grants made with the CLI,
// used by real git through the helper from a sandbox. The condition
// [unshare] holds where a separate mount namespace can be made (root and
// unshare --mount); [bwrap] and [podman] where those sandboxes run (make
// deps installs them).
func TestGrantScripts(t *testing.T) {
	p := scriptParams("testdata/grant")
	p.Cmds["waitgone"] = cmdWaitGone
	p.Cmds["staticbin"] = cmdStaticBin
	p.Cmds["podmanimage"] = cmdPodmanImage
	p.Condition = func(cond string) (bool, error) {
		switch cond {
		case "unshare":
			return os.Getuid() == 0 && exec.Command("unshare", "--mount", "true").Run() == nil, nil
		case "bwrap", "podman":
			return haveSandbox(cond), nil
		}
		return false, errors.New("unknown condition " + cond)
	}
	setup := p.Setup
	p.Setup = func(e *testscript.Env) error {
		// The second uid, for grants that name it (make deps creates it).
		if u, err := user.Lookup("keyfobtest"); err == nil {
			e.Setenv("TESTUID", u.Uid)
		}
		return setup(e)
	}
	t.Cleanup(removeSandboxArtifacts)
	testscript.Run(t, p)
}

// waitgone PATH waits up to 30s until PATH no longer exists (a grant's
// socket or file after its end).
func cmdWaitGone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitgone PATH")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			return
		}
	}
	ts.Fatalf("%s still exists after 30s", path)
}
