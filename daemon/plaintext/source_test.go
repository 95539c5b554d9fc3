package plaintext

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadSourceDefaults(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GH_CONFIG_DIR", "")

	// No default file: a hint naming where it looked.
	_, err := ReadSource(GitCredentials, nil, "", "")
	var h *HintError
	if !errors.As(err, &h) || !strings.Contains(err.Error(), home+"/.git-credentials") || !strings.Contains(h.Hint, "keyfob import git-credentials FILE") {
		t.Fatalf("ReadSource(git-credentials) with no file = %v, want a hint naming the files", err)
	}
	if _, err := ReadSource(GH, nil, "", ""); !errors.As(err, &h) || !strings.Contains(h.Hint, "GH_CONFIG_DIR") {
		t.Errorf("ReadSource(gh) with no config = %v, want a hint naming GH_CONFIG_DIR", err)
	}

	// One of the two default files is there: it is read, the other skipped.
	dir := filepath.Join(home, ".config", "git")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte("https://u:ghp_canarySOURCE@github.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := ReadSource(GitCredentials, nil, "", "")
	if err != nil || len(fs) != 1 || fs[0].Host != "github.com" {
		t.Fatalf("ReadSource(git-credentials) = %v, %v; want the XDG file's entry", fs, err)
	}
	Wipe(fs)

	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte("machine github.com login u password ghp_canaryNETRC\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fs, err := ReadSource(Netrc, nil, "", ""); err != nil || len(fs) != 1 {
		t.Errorf("ReadSource(netrc) = %v, %v; want ~/.netrc's entry", fs, err)
	}
}

func TestReadSourceNamedFiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := ReadSource(GitCredentials, []string{missing}, "", ""); !errors.Is(err, ErrNoSource) {
		t.Errorf("ReadSource(git-credentials, missing) = %v, want ErrNoSource: a named file must be there", err)
	}
	p := write(t, "tok", "ghp_canaryFILE\n")
	fs, err := ReadSource(File, []string{p}, "github.com", "me")
	if err != nil || len(fs) != 1 || fs[0].Username != "me" {
		t.Errorf("ReadSource(file) = %v, %v", fs, err)
	}
}

func TestReadSourceUsage(t *testing.T) {
	for _, c := range []struct {
		kind  string
		files []string
		host  string
		want  error
	}{
		{Netrc, []string{"a", "b"}, "", ErrUsage},
		{File, nil, "github.com", ErrUsage},
		{File, []string{"a"}, "", ErrUsage},
		{GH, []string{"a"}, "", ErrUsage},
		{"svn", nil, "", ErrUnknownSource},
	} {
		if _, err := ReadSource(c.kind, c.files, c.host, ""); !errors.Is(err, c.want) {
			t.Errorf("ReadSource(%q, %q, %q) = %v, want %v", c.kind, c.files, c.host, err, c.want)
		}
	}
}
