//go:build linux && (amd64 || arm64)

package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The log makes its per-line system calls raw only on a local file
// system; elsewhere (here /proc stands for NFS or FUSE) they are the
// runtime's, and a log that takes that path loses no line either.
func TestSystemCallsByFileSystem(t *testing.T) {
	for _, tc := range []struct {
		path  string
		local bool
	}{{"/dev/shm", true}, {"/proc/self/status", false}, {"/sys/kernel", false}} {
		f, err := os.Open(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := localFS(f); got != tc.local {
			t.Errorf("localFS(%s) = %v, want %v", tc.path, got, tc.local)
		}
		f.Close()
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !l.raw {
		t.Fatalf("the log in %s (a local file system) makes its system calls through the runtime", path)
	}
	mustWrite(t, l, "1")
	l.raw = false
	mustWrite(t, l, "2")
	if err := os.Rename(path, path+".renamed"); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, l, "3")
	for name, want := range map[string][]string{path + ".renamed": {"1", "2"}, path: {"3"}} {
		if got := linesOf(t, name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s holds %q, want %q", filepath.Base(name), got, want)
		}
	}
}
