// Package setup works out what keyfob setup changes: the git config steps
// that make keyfob git's credential helper, and the systemd user units to
// write. It plans from what is there now; the CLI prints the plan or
// applies it.
package setup

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keyfob/keyfob/daemon/policy"
)

// HelperName is the git credential helper's executable.
const HelperName = "git-credential-keyfob"

// Step is one git config invocation: its arguments after "git config".
type Step []string

// String is the step as a shell command line.
func (s Step) String() string { return "git config " + strings.Join(quoteArgs(s), " ") }

// Run runs the step.
func (s Step) Run() error {
	_, err := GitConfig(s...)
	return err
}

// GitState is what the global git config says for one credential URL.
type GitState struct {
	// Helpers are the credential.URL.helper values, in order.
	Helpers []string
	// UseHTTPPath is credential.URL.useHttpPath.
	UseHTTPPath bool
}

// Current reads the global git config's state for the credential URL u.
func Current(u string) (GitState, error) {
	out, err := GitConfig("--global", "--get-all", helperKey(u))
	if err != nil {
		return GitState{}, err
	}
	var st GitState
	if out != "" {
		st.Helpers = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	}
	path, err := GitConfig("--global", "--type=bool", "--get", httpPathKey(u))
	if err != nil {
		return GitState{}, err
	}
	st.UseHTTPPath = strings.TrimSpace(path) == "true"
	return st, nil
}

// Plan returns the steps that make helper git's only credential helper for
// u, with useHttpPath on: an empty helper first, so helpers set elsewhere
// neither answer for u nor store keyfob's token, then keyfob's helper.
// Nothing when cur is already so.
func Plan(u, helper string, cur GitState) []Step {
	key := helperKey(u)
	var steps []Step
	if !slices.Equal(cur.Helpers, []string{"", helper}) {
		if len(cur.Helpers) > 0 {
			steps = append(steps, Step{"--global", "--unset-all", key})
		}
		steps = append(steps, Step{"--global", "--add", key, ""}, Step{"--global", "--add", key, helper})
	}
	if !cur.UseHTTPPath {
		steps = append(steps, Step{"--global", httpPathKey(u), "true"})
	}
	return steps
}

// Undo returns the steps that take Plan's settings for u out again.
func Undo(u string) []Step {
	return []Step{{"--global", "--unset-all", helperKey(u)}, {"--global", "--unset", httpPathKey(u)}}
}

func helperKey(u string) string   { return "credential." + u + ".helper" }
func httpPathKey(u string) string { return "credential." + u + ".useHttpPath" }

// CredentialURL turns a host as keyfob setup git takes it into the URL git
// matches credential settings against: a bare host means https; http is
// accepted only for loopback hosts, as the agent hands tokens out over
// nothing else.
func CredentialURL(h string) (string, error) {
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.User != nil {
		return "", fmt.Errorf("--host %q: want host[:port] or https://host[:port]", h)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && policy.IsLoopback(u.Host):
	default:
		return "", fmt.Errorf("--host %q: keyfob serves https, and plain http only for loopback hosts", h)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// ErrHost is PlanHost's error for a host that CredentialURL refuses.
var ErrHost = errors.New("bad --host")

// PlanHost plans setting git up for host h, as keyfob setup git takes it,
// from the global git config as it is now: the credential URL, and the
// steps (Plan) that make helper git's only helper for it.
func PlanHost(h, helper string) (u string, steps []Step, err error) {
	if u, err = CredentialURL(h); err != nil {
		return "", nil, hostError{err}
	}
	cur, err := Current(u)
	if err != nil {
		return "", nil, err
	}
	return u, Plan(u, helper, cur), nil
}

// hostError is CredentialURL's error, as ErrHost.
type hostError struct{ error }

func (e hostError) Is(target error) bool { return target == ErrHost }
func (e hostError) Unwrap() error        { return e.error }

// HelperPath finds git-credential-keyfob: beside this executable first
// (an install puts both in one directory), then on PATH. It returns the
// path quoted for git, which runs an absolute helper through the shell
// directly, without a "git credential-…" lookup.
func HelperPath() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), HelperName)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return shellQuotePath(p), nil
		}
	}
	p, err := exec.LookPath(HelperName)
	if err != nil {
		return "", fmt.Errorf("find %s: %w", HelperName, err)
	}
	if p, err = filepath.Abs(p); err != nil {
		return "", err
	}
	return shellQuotePath(p), nil
}

// shellQuotePath escapes a path for git, which runs an absolute helper
// through the shell; it stays absolute, so git still runs it as is.
func shellQuotePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+", r)) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// GitConfig runs git config with args and returns its output; a missing
// key is not an error.
func GitConfig(args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"config"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && stderr.Len() == 0 {
		return "", nil // no such key
	}
	if err != nil {
		return "", fmt.Errorf("git config %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\\'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}
