package plaintext

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrUnknownSource is ReadSource's error for a kind it does not read.
var ErrUnknownSource = errors.New("unknown source")

// ErrUsage is wrapped by ReadSource's errors about the arguments: files
// or flags that do not fit the source.
var ErrUsage = errors.New("wrong arguments for the source")

type usageError string

func (u usageError) Error() string        { return string(u) }
func (u usageError) Is(target error) bool { return target == ErrUsage }

// HintError is a source that is not there, with what to do about it.
type HintError struct {
	Err  error
	Hint string
}

func (h *HintError) Error() string { return h.Err.Error() }
func (h *HintError) Unwrap() error { return h.Err }

// ReadSource reads the tokens of one source as keyfob import names it:
// kind, then its files (none for the default ones: ~/.git-credentials and
// git's XDG credentials, ~/.netrc, gh's config directory from
// $GH_CONFIG_DIR or $XDG_CONFIG_HOME). A default file that is not there is
// skipped; a source with none of its files is a *HintError. file takes
// one PATH and host (user is the username git sends with it).
func ReadSource(kind string, files []string, host, user string) ([]Found, error) {
	home, _ := os.UserHomeDir()
	var read func(string) ([]Found, error)
	defaults := false
	switch kind {
	case GitCredentials:
		read = ReadGitCredentials
		if len(files) == 0 {
			files, defaults = GitCredentialFiles(home, os.Getenv("XDG_CONFIG_HOME")), true
		}
	case Netrc:
		read = ReadNetrc
		if len(files) > 1 {
			return nil, usageError("import netrc takes at most one FILE")
		}
		if len(files) == 0 {
			files, defaults = []string{home + "/.netrc"}, true
		}
	case File:
		if len(files) != 1 || host == "" {
			return nil, usageError("import file takes one PATH and --host H")
		}
		return ReadFile(files[0], host, user)
	case GH:
		if len(files) != 0 {
			return nil, usageError("import gh takes no FILE: it reads gh's hosts.yml ($GH_CONFIG_DIR, else ~/.config/gh)")
		}
		dir := GHConfigDir(os.Getenv("GH_CONFIG_DIR"), os.Getenv("XDG_CONFIG_HOME"), home)
		fs, err := ReadGH(dir, GHToken)
		if errors.Is(err, ErrNoSource) {
			return nil, &HintError{fmt.Errorf("no gh config at %s", dir), "set GH_CONFIG_DIR if gh keeps it elsewhere"}
		}
		return fs, err
	default:
		return nil, fmt.Errorf("%q: %w", kind, ErrUnknownSource)
	}
	var out []Found
	seen := 0
	for _, f := range files {
		fs, err := read(f)
		if defaults && errors.Is(err, ErrNoSource) {
			continue
		}
		if err != nil {
			Wipe(out)
			return nil, err
		}
		seen++
		out = append(out, fs...)
	}
	if seen == 0 {
		return nil, &HintError{fmt.Errorf("no %s file at %s", kind, strings.Join(files, " or ")), "name the file: keyfob import " + kind + " FILE"}
	}
	return out, nil
}
