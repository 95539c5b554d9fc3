package client

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// CheckPrivateDir accepts only a real directory of ours with mode 0700 (or
// tighter), and says which rule the others break.
func TestCheckPrivateDir(t *testing.T) {
	for _, tc := range []struct {
		name     string
		setup    func(t *testing.T, dir string)
		want     DirProblem // 0 accepts
		notExist bool
	}{
		{"0700", func(t *testing.T, dir string) { mustMkdir(t, dir) }, 0, false},
		{"0500", func(t *testing.T, dir string) {
			mustMkdir(t, dir)
			if err := os.Chmod(dir, 0o500); err != nil {
				t.Fatal(err)
			}
		}, 0, false},
		{"missing", func(t *testing.T, dir string) {}, 0, true},
		{"a file", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, NotADirectory, false},
		{"a symlink to a private directory", func(t *testing.T, dir string) {
			real := dir + ".real"
			mustMkdir(t, real)
			if err := os.Symlink(real, dir); err != nil {
				t.Fatal(err)
			}
		}, NotADirectory, false},
		{"0750", func(t *testing.T, dir string) {
			mustMkdir(t, dir)
			if err := os.Chmod(dir, 0o750); err != nil {
				t.Fatal(err)
			}
		}, OpenToOthers, false},
		{"0701", func(t *testing.T, dir string) {
			mustMkdir(t, dir)
			if err := os.Chmod(dir, 0o701); err != nil {
				t.Fatal(err)
			}
		}, OpenToOthers, false},
		{"another uid's", func(t *testing.T, dir string) {
			uid, gid := otherUID(t)
			mustMkdir(t, dir)
			if err := os.Chown(dir, uid, gid); err != nil {
				t.Fatal(err)
			}
		}, OtherOwner, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			tc.setup(t, dir)
			err := CheckPrivateDir(dir)
			var de *DirError
			switch {
			case tc.notExist:
				if !os.IsNotExist(err) {
					t.Errorf("CheckPrivateDir(%q) = %v, want a not-exist error", dir, err)
				}
			case tc.want == 0:
				if err != nil {
					t.Errorf("CheckPrivateDir(%q) = %v, want nil", dir, err)
				}
			case !errors.As(err, &de) || de.Problem != tc.want || de.Dir != dir:
				t.Errorf("CheckPrivateDir(%q) = %#v, want a *DirError with problem %d", dir, err, tc.want)
			}
		})
	}
}
