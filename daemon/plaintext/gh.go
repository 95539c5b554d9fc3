package plaintext

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/keyfob/keyfob/client"
)

// GHConfigDir is gh's config directory: $GH_CONFIG_DIR, else
// $XDG_CONFIG_HOME/gh, else ~/.config/gh.
func GHConfigDir(ghConfigDir, xdgConfig, home string) string {
	switch {
	case ghConfigDir != "":
		return ghConfigDir
	case xdgConfig != "":
		return filepath.Join(xdgConfig, "gh")
	}
	return filepath.Join(home, ".config", "gh")
}

// ReadGH reads gh's hosts.yml in dir, in both of gh's layouts: the old one
// (host: {oauth_token, user}) and the multi-account one (host: {users:
// {USER: {oauth_token}}, user}). A user whose token gh keeps in a keyring
// (no oauth_token in the file) is asked of gh itself with tokenOf, which
// may be nil to skip those.
func ReadGH(dir string, tokenOf func(host, user string, active bool) (client.Secret, error)) ([]Found, error) {
	path := filepath.Join(dir, "hosts.yml")
	b, _, err := readFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	var doc map[string]struct {
		User       string `yaml:"user"`
		OAuthToken string `yaml:"oauth_token"`
		Users      map[string]*struct {
			OAuthToken string `yaml:"oauth_token"`
		} `yaml:"users"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: not gh's hosts.yml: %w", path, err)
	}
	hosts := make([]string, 0, len(doc))
	for h := range doc {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	var out []Found
	for _, host := range hosts {
		e := doc[host]
		users := map[string]string{}
		for u, v := range e.Users {
			tok := ""
			if v != nil {
				tok = v.OAuthToken
			}
			users[u] = tok
		}
		if e.User != "" && (users[e.User] == "" || len(e.Users) == 0) {
			if users[e.User] == "" {
				users[e.User] = e.OAuthToken
			}
		}
		names := make([]string, 0, len(users))
		for u := range users {
			names = append(names, u)
		}
		sort.Strings(names)
		for _, u := range names {
			f := Found{Kind: GH, Path: path, Protocol: "https", Host: strings.ToLower(host), Username: "x-access-token", ghUser: u}
			switch tok := users[u]; {
			case tok != "":
				f.Secret = client.NewSecret(tok)
			case tokenOf != nil:
				s, err := tokenOf(host, u, u == e.User)
				if err != nil || s.IsZero() {
					continue // gh has no token for this user, or no keyring
				}
				f.Secret, f.Path = s, ""
			default:
				continue
			}
			if hostOK("https", f.Host) {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// GHToken asks gh for a user's token (gh keeps it in the system keyring):
// gh auth token --hostname HOST --user USER, or, for a gh that predates
// several accounts, without --user when user is the active one.
func GHToken(host, user string, active bool) (client.Secret, error) {
	run := func(args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "gh", args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil && strings.Contains(stderr.String(), "unknown flag") {
			return nil, errUnknownFlag
		}
		return out, err
	}
	out, err := run("auth", "token", "--hostname", host, "--user", user)
	if errors.Is(err, errUnknownFlag) && active {
		out, err = run("auth", "token", "--hostname", host)
	}
	if err != nil {
		return client.Secret{}, fmt.Errorf("gh auth token --hostname %s: %w", host, err)
	}
	defer clear(out)
	return client.NewSecret(strings.TrimSpace(string(out))), nil
}

var errUnknownFlag = errors.New("unknown flag")
