package harden

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestApply hardens a child copy of the test binary (hardening is for the
// life of a process) and has it report what the kernel says.
func TestApply(t *testing.T) {
	if os.Getenv("KEYFOB_TEST_HARDEN") == "1" {
		if err := Apply(); err != nil {
			t.Fatalf("Apply = %v", err)
		}
		d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if err != nil || d != 0 {
			t.Fatalf("PR_GET_DUMPABLE = %d, %v; want 0", d, err)
		}
		var rl unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &rl); err != nil || rl.Cur != 0 || rl.Max != 0 {
			t.Fatalf("RLIMIT_CORE = %+v, %v; want 0/0", rl, err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestApply$", "-test.v")
	cmd.Env = append(os.Environ(), "KEYFOB_TEST_HARDEN=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestApply") {
		t.Fatalf("hardened child: %v\n%s", err, out)
	}
}
