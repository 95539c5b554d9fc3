package pump

import (
	"os"
	"path/filepath"
	"strconv"
)

// SocketPath returns where the agent listens: $KEYFOB_SOCKET, else
// $XDG_RUNTIME_DIR/keyfob/agent.sock, else a per-uid directory in the
// system temporary directory (which the agent checks before using).
func SocketPath() string {
	if p := os.Getenv("KEYFOB_SOCKET"); p != "" {
		return p
	}
	return DefaultSocketPath()
}

// DefaultSocketPath is SocketPath without $KEYFOB_SOCKET.
func DefaultSocketPath() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "keyfob", "agent.sock")
	}
	return filepath.Join(os.TempDir(), "keyfob-"+strconv.Itoa(os.Getuid()), "agent.sock")
}

// KeyfobExe finds the keyfob binary: beside this program's own, else in
// an absolute directory on $PATH. It is how a helper finds the CLI it
// hands work to. A relative entry ("", ".", "bin") is skipped: git runs
// the helper in the repository's worktree, so a keyfob there would be
// the repository's own program, not the user's.
func KeyfobExe() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "keyfob")
		if executable(p) {
			return p, nil
		}
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, "keyfob")
		if executable(p) {
			return filepath.Abs(p)
		}
	}
	return "", errNoKeyfob
}

var errNoKeyfob = &pathError{"keyfob was not found beside git-credential-keyfob or on PATH"}

type pathError struct{ s string }

func (e *pathError) Error() string { return e.s }

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
