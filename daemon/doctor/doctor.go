// Package doctor checks what keyfob depends on around it: the socket
// directory, the agent and its keychain, the config file, git's credential
// helper chain and useHttpPath, and the systemd user units. It returns its
// findings as data, each problem with its fix; keyfob doctor prints them.
package doctor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/config"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/policy"
)

// Level says whether a finding is fine or a problem.
type Level int

// Levels.
const (
	OK Level = iota
	Problem
)

// Checks, the areas findings belong to.
const (
	CheckSocket = "socket"
	CheckAgent  = "agent"
	CheckConfig = "config"
	CheckGit    = "git"
	CheckUnits  = "units"
)

// Finding is one result of a check.
type Finding struct {
	Level Level
	// Check is the area: CheckSocket, CheckAgent and so on.
	Check string
	// Message says what was found.
	Message string
	// Hint says how to fix a problem; "" when there is nothing to suggest.
	Hint string
}

// Options say what to check. Empty fields mean keyfob's defaults.
type Options struct {
	// Socket is the agent's socket path.
	Socket string
	// ConfigPath is the config file.
	ConfigPath string
	// UnitDir is the systemd user unit directory.
	UnitDir string
	// Call sends a request to the agent; nil means client.Call.
	Call func(path string, req *client.Request) (*client.Response, error)
	// Home, Environ and StateDir are where to look for leaks: the home
	// directory, the environment and keyfob's state directory.
	Home     string
	Environ  []string
	StateDir string
	// GitHubAPI overrides github.com's API base (KEYFOB_GITHUB_API).
	GitHubAPI string
}

// Problems counts the problems among findings.
func Problems(findings []Finding) int {
	n := 0
	for _, f := range findings {
		if f.Level == Problem {
			n++
		}
	}
	return n
}

// report collects findings.
type report struct{ findings []Finding }

func (r *report) ok(check, format string, args ...any) {
	r.findings = append(r.findings, Finding{Level: OK, Check: check, Message: fmt.Sprintf(format, args...)})
}

func (r *report) problem(check, msg, hint string) {
	r.findings = append(r.findings, Finding{Level: Problem, Check: check, Message: msg, Hint: hint})
}

// Run runs every check, in order: socket directory, agent, config, GitHub
// hosts, git, leaks (plaintext tokens, exported tokens, loose
// permissions), units. The tokens the agent holds and the config's routes tell the git
// checks which hosts to look at.
func Run(o Options) []Finding {
	if o.Socket == "" {
		o.Socket = client.SocketPath()
	}
	if o.ConfigPath == "" {
		o.ConfigPath = client.ConfigPath()
	}
	if o.Call == nil {
		o.Call = client.Call
	}
	r := &report{}
	r.socketDir(filepath.Dir(o.Socket))
	toks, infos := r.agent(o.Socket, o.Call)
	routes, hosts := r.config(o.ConfigPath, toks)
	r.githubHosts(github.NewHosts(o.GitHubAPI, "", hosts), infos, o.ConfigPath)
	r.tokenStates(infos)
	r.git(toks, routes)
	r.leaks(o.leakPlaces())
	dir := o.UnitDir
	if dir == "" {
		var err error
		if dir, err = client.UserUnitDir(); err != nil {
			r.problem(CheckUnits, err.Error(), "")
			return r.findings
		}
	}
	r.units(dir)
	return r.findings
}

func (r *report) socketDir(dir string) {
	err := client.CheckPrivateDir(dir)
	var de *client.DirError
	switch {
	case errors.Is(err, os.ErrNotExist):
		return // the agent check says it is not running
	case err == nil:
	case !errors.As(err, &de):
		r.problem(CheckSocket, fmt.Sprintf("socket directory %s: %v", dir, err), "")
		return
	case de.Problem == client.NotADirectory:
		r.problem(CheckSocket, fmt.Sprintf("socket directory %s is not a directory (a symlink?)", dir),
			"remove it and start the agent again; it creates the directory itself")
		return
	case de.Problem == client.OtherOwner:
		r.problem(CheckSocket, fmt.Sprintf("socket directory %s belongs to uid %d, not to you (uid %d)", dir, de.UID, os.Getuid()),
			"remove it and start the agent again; it creates the directory itself")
		return
	case de.Problem == client.OpenToOthers, de.Mode&0o077 != 0:
		r.problem(CheckSocket, fmt.Sprintf("socket directory %s is mode %04o: group or others can reach the agent's socket", dir, de.Mode),
			"chmod 700 "+dir)
		return
	}
	r.ok(CheckSocket, "socket directory %s is private (0700, yours)", dir)
}

// agent checks the agent and its keychain, and returns the tokens when it
// is unlocked.
func (r *report) agent(path string, call func(string, *client.Request) (*client.Response, error)) ([]policy.Token, []client.TokenInfo) {
	resp, err := call(path, &client.Request{Op: client.OpStatus})
	var ue *client.UntrustedError
	if errors.As(err, &ue) {
		r.problem(CheckAgent, ue.Problem, ue.Fix)
		return nil, nil
	}
	if err != nil || resp.Status == nil {
		r.problem(CheckAgent, fmt.Sprintf("agent not running at %s", path),
			"start it: keyfob serve, or systemctl --user enable --now keyfob.socket")
		return nil, nil
	}
	s := resp.Status
	switch {
	case s.KeychainLocked:
		fix := s.LockHint
		if fix == "" {
			fix = "unlock the keychain; the agent loads the tokens by itself"
		}
		r.problem(CheckAgent, fmt.Sprintf("agent (pid %d) is locked: %s", s.PID, s.LockError), fix)
		return nil, nil
	case s.Locked && s.LockHint != "":
		// The keychain cannot be read: the backend's words, and its fix.
		r.problem(CheckAgent, fmt.Sprintf("keychain backend %s is not reachable: %s", s.Backend, s.LockError), s.LockHint)
		return nil, nil
	case s.Locked && (s.NeedsPass || strings.Contains(s.LockError, "keyfob lock") || strings.Contains(s.LockError, "waiting")):
		r.problem(CheckAgent, fmt.Sprintf("agent (pid %d) is locked: %s", s.PID, s.LockError), "keyfob unlock")
		return nil, nil
	case s.Locked:
		r.problem(CheckAgent, fmt.Sprintf("keychain backend %s is not reachable: %s", s.Backend, s.LockError),
			"check KEYFOB_BACKEND (secret-service needs a session bus and an unlocked login keyring), then keyfob unlock")
		return nil, nil
	}
	r.ok(CheckAgent, "agent pid %d answers at %s: %s backend, unlocked, %d tokens", s.PID, path, s.Backend, s.Tokens)
	if s.ConfigErr != "" {
		r.problem(CheckConfig, "the agent refused the config file and keeps its previous config: "+s.ConfigErr,
			"fix the file; the agent reloads it on save")
	}
	l, err := call(path, &client.Request{Op: client.OpList})
	if err != nil {
		return nil, nil
	}
	toks := make([]policy.Token, 0, len(l.Tokens)+len(l.Apps))
	for _, t := range l.Tokens {
		toks = append(toks, policy.Token{Name: t.Name, Hosts: t.Hosts, Username: t.Username})
	}
	// A route may name a GitHub App: it answers like a token.
	for _, a := range l.Apps {
		toks = append(toks, policy.Token{Name: a.Name, Hosts: a.Hosts, Username: "x-access-token", App: true})
	}
	if len(toks) == 0 {
		r.problem(CheckAgent, "the agent holds no tokens", "keyfob add NAME --host github.com")
	}
	return toks, l.Tokens
}

// config checks the config file, and the routes against the tokens when
// they are known; it returns the routes and the Enterprise hosts.
func (r *report) config(path string, toks []policy.Token) (*policy.Table, []github.Host) {
	c, err := config.Load(path)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				r.problem(CheckConfig, "config "+p.Error(), "edit "+path)
			}
		} else {
			r.problem(CheckConfig, err.Error(), "")
		}
		return nil, nil
	}
	if !c.Exists {
		r.ok(CheckConfig, "no config file at %s: no routes, each host's token answers", path)
		return nil, nil
	}
	r.ok(CheckConfig, "config %s loads: %d routes", path, c.Table.Len())
	if toks != nil {
		var ce *config.Error
		if errors.As(c.Check(toks), &ce) {
			for _, p := range ce.Problems {
				r.problem(CheckConfig, "config "+p.Error(), "add the token (keyfob add NAME --host H), or fix the route in "+path)
			}
		}
	}
	return c.Table, c.GitHub
}
