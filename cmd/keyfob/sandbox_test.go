package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// Real sandboxes for testdata/grant: static keyfob binaries (the test
// binary cannot run inside a sandbox that sees only /usr and /etc), and a
// podman image made from this machine's git, since no registry is reachable.

var static struct {
	once sync.Once
	dir  string
	err  error
}

// staticBins builds keyfob and git-credential-keyfob with CGO_ENABLED=0
// once per test run, with the test process's own Go caches.
func staticBins() (string, error) {
	static.once.Do(func() {
		dir, err := os.MkdirTemp("", "kfbin")
		if err != nil {
			static.err = err
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-o", dir+"/", "github.com/keyfob/keyfob/cmd/keyfob", "github.com/keyfob/keyfob/cmd/git-credential-keyfob")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			static.err = fmt.Errorf("go build: %v: %s", err, out)
		}
		static.dir = dir
	})
	return static.dir, static.err
}

// staticbin DIR copies the static keyfob and git-credential-keyfob into DIR
// (mode 0755), for use inside a sandbox.
func cmdStaticBin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: staticbin DIR")
	}
	src, err := staticBins()
	ts.Check(err)
	dst := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dst, 0o755))
	for _, name := range []string{"keyfob", "git-credential-keyfob"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		ts.Check(err)
		ts.Check(os.WriteFile(filepath.Join(dst, name), b, 0o755))
	}
}

var image struct {
	once sync.Once
	name string
	err  error
}

// podmanImage imports, once per test run, an image holding git, its http
// transport, sh, cat, tr and test with the libraries they link, and the
// static helper at /kf/git-credential-keyfob.
func podmanImage() (string, error) {
	image.once.Do(func() {
		bins, err := staticBins()
		if err != nil {
			image.err = err
			return
		}
		root, err := os.MkdirTemp("", "kfimg")
		if err != nil {
			image.err = err
			return
		}
		defer os.RemoveAll(root)
		add := func(src, dst string) error {
			b, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(root, dst)), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(root, dst), b, 0o755)
		}
		for _, p := range []string{"/usr/bin/git", "/usr/lib/git-core/git-remote-http", "/bin/sh", "/usr/bin/cat", "/usr/bin/tr", "/usr/bin/test", "/usr/bin/id"} {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				image.err = err
				return
			}
			if err := add(real, p); err != nil {
				image.err = err
				return
			}
			out, err := exec.Command("ldd", real).Output()
			if err != nil {
				image.err = fmt.Errorf("ldd %s: %w", real, err)
				return
			}
			for _, f := range strings.Fields(string(out)) {
				if strings.HasPrefix(f, "/") {
					if err := add(f, f); err != nil {
						image.err = err
						return
					}
				}
			}
		}
		if err := add(filepath.Join(bins, "git-credential-keyfob"), "/kf/git-credential-keyfob"); err != nil {
			image.err = err
			return
		}
		name := fmt.Sprintf("localhost/keyfob-test:%d", os.Getpid())
		tar := exec.Command("tar", "-C", root, "-c", ".")
		imp := exec.Command("podman", "import", "-", name)
		pipe, err := tar.StdoutPipe()
		if err != nil {
			image.err = err
			return
		}
		imp.Stdin = pipe
		if err := tar.Start(); err != nil {
			image.err = err
			return
		}
		out, err := imp.CombinedOutput()
		if werr := tar.Wait(); err == nil {
			err = werr
		}
		if err != nil {
			image.err = fmt.Errorf("podman import: %v: %s", err, out)
			return
		}
		image.name = name
	})
	return image.name, image.err
}

// podmanimage sets $IMAGE to the test image (see podmanImage).
func cmdPodmanImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: podmanimage")
	}
	name, err := podmanImage()
	ts.Check(err)
	ts.Setenv("IMAGE", name)
}

// removeSandboxArtifacts removes the image and binaries a run made.
func removeSandboxArtifacts() {
	if image.name != "" {
		_ = exec.Command("podman", "rmi", "-f", image.name).Run()
	}
	if static.dir != "" {
		os.RemoveAll(static.dir)
	}
}

// haveSandbox reports whether a sandbox tool runs here: bubblewrap with a
// user namespace, or podman with runc (RECIPES: crun fails on this
// machine's cgroup layout).
func haveSandbox(name string) bool {
	switch name {
	case "bwrap":
		return exec.Command("bwrap", "--ro-bind", "/", "/", "--unshare-all", "--", "true").Run() == nil
	case "podman":
		_, err := exec.LookPath("podman")
		_, rerr := exec.LookPath("runc")
		return err == nil && rerr == nil && os.Getuid() == 0
	}
	return false
}
