// Package plaintext finds the tokens that sit in plaintext files (git's
// credential store, gh's hosts.yml, .netrc, token files) and removes them
// from those files once they are safe in the keychain. It never prints a
// secret: what it finds carries one as a client.Secret.
package plaintext

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyfob/keyfob/client"
)

// Source kinds, as keyfob import names them.
const (
	GitCredentials = "git-credentials"
	GH             = "gh"
	File           = "file"
	Netrc          = "netrc"
)

// Found is one token in a plaintext source.
type Found struct {
	Kind     string // GitCredentials, GH, File or Netrc
	Path     string // the file it is in; "" when gh keeps it in a keyring
	Line     int    // 1-based line of the entry, 0 when not line-based
	Host     string // host[:port]
	Username string // "" when the source names none
	Protocol string // "https", or "http" for a loopback host
	// RepoPath is the repository a credential is scoped to (git's store
	// with credential.useHttpPath): Import refuses to widen it to the
	// whole host.
	RepoPath string
	Secret   client.Secret

	// lines are the 1-based lines the entry takes, removed by Scrub;
	// shared is set when one of them holds another entry's words too.
	lines  []int
	shared bool
	// ghUser is the gh account whose token this is (hosts.yml).
	ghUser string
}

// Location names where f was found, for messages: "FILE:LINE".
func (f Found) Location() string {
	switch {
	case f.Path == "":
		return "gh's keyring (" + f.Host + ")"
	case f.Line > 0:
		return fmt.Sprintf("%s:%d", f.Path, f.Line)
	}
	return f.Path
}

// Name is the token name keyfob gives f: "gh:USER@HOST" for gh's tokens,
// "git:USER@HOST" for git's and .netrc's, "file:BASE@HOST" for a token
// file. Characters a token name cannot hold become "-".
func (f Found) Name() string {
	switch f.Kind {
	case GH:
		return sanitize("gh:" + f.ghUser + "@" + f.Host)
	case File:
		return sanitize("file:" + filepath.Base(f.Path) + "@" + f.Host)
	}
	user := f.Username
	if user == "" {
		user = "x-access-token"
	}
	return sanitize("git:" + user + "@" + f.Host)
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:@-+", r) {
			return r
		}
		return '-'
	}, s)
	for strings.Contains(s, "..") {
		s = strings.ReplaceAll(s, "..", ".")
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return strings.TrimLeft(s, ".-")
}

// Wipe overwrites every secret in fs.
func Wipe(fs []Found) {
	for _, f := range fs {
		f.Secret.Wipe()
	}
}

// ErrNoSource is returned when none of a source's default files exist.
var ErrNoSource = errors.New("no such file")

// readFile reads a source file; a missing one is ErrNoSource.
func readFile(path string) ([]byte, os.FileInfo, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: %w", path, ErrNoSource)
	}
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > 1<<20 {
		return nil, nil, fmt.Errorf("%s is larger than 1 MiB; not a credentials file", path)
	}
	b, err := os.ReadFile(path)
	return b, fi, err
}

// hostOK reports whether a token may be imported for protocol and host:
// https, or plain http to a loopback host, as keyfob would serve it.
func hostOK(protocol, host string) bool {
	if host == "" || strings.ContainsAny(host, "/\\ \t\r\n\x00") {
		return false
	}
	h := host
	if i := strings.LastIndex(h, ":"); i > 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	h = strings.Trim(h, "[]")
	switch protocol {
	case "https":
		return true
	case "http":
		return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasPrefix(h, "127.")
	}
	return false
}
