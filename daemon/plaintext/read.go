package plaintext

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/keyfob/keyfob/client"
)

// GitCredentialFiles are git's store files: ~/.git-credentials and
// $XDG_CONFIG_HOME/git/credentials (or ~/.config/git/credentials), as
// git-credential-store(1) reads them.
func GitCredentialFiles(home, xdgConfig string) []string {
	if xdgConfig == "" {
		xdgConfig = filepath.Join(home, ".config")
	}
	return []string{filepath.Join(home, ".git-credentials"), filepath.Join(xdgConfig, "git", "credentials")}
}

// ReadGitCredentials reads git's store format: one URL a line,
// "https://USER:TOKEN@HOST[/PATH]", user and password percent-encoded.
// Lines keyfob would not serve (another protocol, plain http to a host
// that is not loopback, no password) are skipped.
func ReadGitCredentials(path string) ([]Found, error) {
	b, _, err := readFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	var out []Found
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		u, err := url.Parse(line)
		if err != nil || u.User == nil {
			continue
		}
		pass, ok := u.User.Password()
		if !ok || pass == "" || !hostOK(u.Scheme, u.Host) {
			continue
		}
		out = append(out, Found{Kind: GitCredentials, Path: path, Line: i + 1, lines: []int{i + 1},
			Protocol: u.Scheme, Host: strings.ToLower(u.Host), Username: u.User.Username(), Secret: client.NewSecret(pass),
			RepoPath: strings.Trim(u.Path, "/")})
	}
	return out, nil
}

// ReadFile reads a token file (a GH_TOKEN_FILE mount, say): the token is
// the file's content with a trailing newline and CR removed, as
// `tr -d '\r\n'` would.
func ReadFile(path, host, username string) ([]Found, error) {
	b, _, err := readFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	tok := strings.TrimRight(string(b), "\r\n")
	switch {
	case tok == "":
		return nil, fmt.Errorf("%s holds no token", path)
	case strings.ContainsAny(tok, "\r\n\x00 \t"):
		return nil, fmt.Errorf("%s holds more than one line or whitespace; want the token alone", path)
	case !hostOK("https", host):
		return nil, fmt.Errorf("--host %q: want host[:port]", host)
	}
	return []Found{{Kind: File, Path: path, Protocol: "https", Host: strings.ToLower(host), Username: username, Secret: client.NewSecret(tok)}}, nil
}

// ReadNetrc reads a .netrc: "machine HOST login U password TOKEN"
// entries, on one line or several. "default" and "macdef" entries are
// skipped; so is an entry without a password. An entry that shares a line
// with another cannot be scrubbed line by line; it is marked so.
func ReadNetrc(path string) ([]Found, error) {
	b, _, err := readFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	type word struct {
		s    string
		line int
	}
	var words []word
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, w := range strings.Fields(line) {
			words = append(words, word{w, i + 1})
		}
	}
	// owners[line] are the entries with a word on that line; -1 stands
	// for words outside any machine entry (default, macdef).
	owners := map[int]map[int]bool{}
	var entries []*Found
	entry := -1
	for i := 0; i < len(words); i++ {
		w := words[i]
		next := func() string {
			if i+1 < len(words) {
				i++
				mark(owners, words[i].line, entry)
				return words[i].s
			}
			return ""
		}
		switch w.s {
		case "machine":
			entries = append(entries, &Found{Kind: Netrc, Path: path, Line: w.line, Protocol: "https"})
			entry = len(entries) - 1
			mark(owners, w.line, entry)
			entries[entry].Host = strings.ToLower(next())
			continue
		case "default", "macdef":
			entry = -1
		}
		mark(owners, w.line, entry)
		if entry < 0 {
			continue
		}
		switch w.s {
		case "login":
			entries[entry].Username = next()
		case "password":
			entries[entry].Secret = client.NewSecret(next())
		case "account":
			next()
		}
	}
	var out []Found
	for i, e := range entries {
		if e.Secret.IsZero() || !hostOK("https", e.Host) {
			e.Secret.Wipe()
			continue
		}
		for line, who := range owners {
			if who[i] {
				e.lines = append(e.lines, line)
				if len(who) > 1 {
					e.shared = true
				}
			}
		}
		out = append(out, *e)
	}
	return out, nil
}

func mark(owners map[int]map[int]bool, line, entry int) {
	if owners[line] == nil {
		owners[line] = map[int]bool{}
	}
	owners[line][entry] = true
}
