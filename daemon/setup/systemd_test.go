package setup

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyfob/keyfob/contrib"
)

// Units plans both units; written, they are current; for another keyfob
// they are not.
func TestUnits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "systemd", "user")
	const exe = "/opt/keyfob/bin/keyfob"
	files, err := Units(dir, exe)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(contrib.Units) {
		t.Fatalf("Units = %d files, want %d", len(files), len(contrib.Units))
	}
	for i, f := range files {
		if f.Path != filepath.Join(dir, contrib.Units[i]) || f.Current || f.Mode != 0o644 {
			t.Errorf("Units[%d] = %s (current %v, mode %v), want %s to write, 0644", i, f.Path, f.Current, f.Mode, contrib.Units[i])
		}
		if err := f.Write(); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(f.Path)
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("written %s: %v, %v; want mode 0644", f.Path, fi, err)
		}
	}
	svc, _ := os.ReadFile(filepath.Join(dir, "keyfob.service"))
	if !bytes.Contains(svc, []byte("ExecStart="+exe+" ")) {
		t.Errorf("keyfob.service:\n%s\nwant ExecStart=%s", svc, exe)
	}
	again, err := Units(dir, exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range again {
		if !f.Current {
			t.Errorf("Units after writing: %s not current", f.Path)
		}
	}
	other, err := Units(dir, "/usr/bin/keyfob")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range other {
		if want := filepath.Base(f.Path) == "keyfob.socket"; f.Current != want {
			t.Errorf("Units for another keyfob: %s current = %v, want %v", f.Path, f.Current, want)
		}
	}
	if _, err := Units(dir, "keyfob"); err == nil {
		t.Error("Units with a relative keyfob path succeeded, want an error")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) > 0 {
		t.Errorf("temporary files left in %s: %v", dir, leftovers)
	}
}
