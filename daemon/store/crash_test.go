package store

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/keyfob/keyfob/client"
)

// crashEnv makes the test binary a child that rotates a token and kills
// itself (SIGKILL) at the named point of the file backend's write.
const crashEnv = "KEYFOB_STORE_TEST_CRASH"

const (
	crashOld = "ghp_canaryCRASHOLD00000000000000000000"
	crashNew = "ghp_canaryCRASHNEW00000000000000000000"
)

func crashOpts(dir string) Options {
	return Options{Backend: File, Dir: dir, Passphrase: client.NewSecret("test passphrase")}
}

// TestCrashDuringWrite kills a real process in the middle of a file-backend
// write, before and after the rename: the old token or the new one
// survives, whole, never neither.
func TestCrashDuringWrite(t *testing.T) {
	if point := os.Getenv(crashEnv); point != "" {
		crashChild(t, point)
		return
	}
	for _, tc := range []struct{ point, want string }{
		{"before-rename:keyfob.token.gh", crashOld},
		{"after-rename:keyfob.token.gh", crashNew},
	} {
		t.Run(tc.point, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keyring")
			st, err := Open(crashOpts(dir))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Put(Token{Name: "gh", Secret: client.NewSecret(crashOld), Meta: Meta{Hosts: []string{"example.com"}}}); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDuringWrite$")
			cmd.Env = append(os.Environ(), crashEnv+"="+tc.point, "KEYFOB_STORE_TEST_DIR="+dir)
			out, err := cmd.CombinedOutput()
			ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if err == nil || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child at %s: %v, want killed by SIGKILL\n%s", tc.point, err, out)
			}
			st, err = Open(crashOpts(dir))
			if err != nil {
				t.Fatal(err)
			}
			toks, bad, err := st.Load()
			if err != nil || len(bad) != 0 || len(toks) != 1 {
				t.Fatalf("Load() after the kill = %d tokens, %v, %v; want 1 whole token", len(toks), bad, err)
			}
			if got := toks[0].Secret.Reveal(); got != tc.want {
				t.Fatalf("token after a kill %s = %q, want %q", tc.point, got, tc.want)
			}
			if stages, _ := filepath.Glob(filepath.Join(dir, ".stage-*")); len(stages) != 0 {
				t.Errorf("%d staging directories left after reopening", len(stages))
			}
		})
	}
}

func crashChild(t *testing.T, point string) {
	st, err := Open(crashOpts(os.Getenv("KEYFOB_STORE_TEST_DIR")))
	if err != nil {
		t.Fatal(err)
	}
	crashHook = func(p string) {
		if p == point {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	err = st.Put(Token{Name: "gh", Secret: client.NewSecret(crashNew), Meta: Meta{Hosts: []string{"example.com"}}})
	t.Fatalf("Put returned %v; the hook at %s never ran", err, point)
}
