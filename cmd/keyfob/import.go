package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/keyfob/keyfob/client/view"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/plaintext"
)

const importUsage = "import git-credentials [FILE]... | gh | file PATH --host H [--name N] [--username U] | netrc [FILE]   [--remove] [--dry-run]"

func cmdImport(e *env, args []string) error {
	fs := newFlags("import", e)
	remove := fs.Bool("remove", false, "remove the entries from the source once they are stored and read back")
	dry := fs.Bool("dry-run", false, "list what would be imported, masked, and change nothing")
	host := fs.String("host", "", "file: the host[:port] the token is for")
	name := fs.String("name", "", "file: the token's name (default file:BASENAME@HOST)")
	user := fs.String("username", "", "file: the username git sends with it (default x-access-token)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageError{"keyfob " + importUsage}
	}
	found, err := readSource(pos[0], pos[1:], *host, *user)
	if err != nil {
		return err
	}
	defer plaintext.Wipe(found)
	if (*name != "" || *host != "" || *user != "") && pos[0] != plaintext.File {
		return usageError{"--host, --name and --username go with import file"}
	}
	if len(found) == 0 {
		fmt.Fprintf(e.stdout, "no tokens to import from %s\n", strings.Join(pos, " "))
		return nil
	}
	if *dry {
		for _, f := range found {
			n := *name
			if n == "" {
				n = f.Name()
			}
			fmt.Fprintf(e.stdout, "would import %s (%s) for %s from %s\n", n, agent.Mask(f.Secret), f.Host, f.Location())
		}
		return nil
	}
	results, err := plaintext.Import(call, found, *name)
	if err != nil {
		return fmt.Errorf("%w; nothing was stored, and the source is left as it was", err)
	}
	failed := 0
	for _, r := range results {
		for _, w := range r.Warnings {
			fmt.Fprintf(e.stderr, "keyfob: warning: %s\n", w)
		}
		switch {
		case r.Err != nil:
			failed++
			fmt.Fprintf(e.stderr, "keyfob: error: %s from %s: %v\n", r.Name, r.Found.Location(), r.Err)
		case r.Already:
			fmt.Fprintf(e.stdout, "already in keyfob: %s (%s) from %s\n", r.Name, agent.Mask(r.Found.Secret), r.Found.Location())
		default:
			fmt.Fprintf(e.stdout, "imported %s (%s) for %s from %s%s\n", r.Name, r.Info.Masked, r.Found.Host, r.Found.Location(), view.Validated(r.Info))
		}
	}
	if failed > 0 {
		if *remove {
			return hinted{fmt.Errorf("%d of %d tokens were not stored, so %s is left as it was", failed, len(results), pos[0]),
				"fix what the lines above say (keyfob unlock, a valid token), then run keyfob import again"}
		}
		return fmt.Errorf("%d of %d tokens were not stored", failed, len(results))
	}
	if !*remove {
		fmt.Fprintf(e.stdout, "the plaintext copies are still there: keyfob import %s --remove deletes them\n", pos[0])
		return nil
	}
	if err := plaintext.Verify(call, results); err != nil {
		return hinted{fmt.Errorf("reading the tokens back: %w; nothing was removed", err), "keyfob list shows what keyfob holds"}
	}
	if err := plaintext.Scrub(found); err != nil {
		return hinted{fmt.Errorf("the tokens are in keyfob, but %w", err), "remove the entries by hand, or fix the file and run keyfob import --remove again"}
	}
	inFiles := map[string]int{}
	for _, f := range found {
		if f.Path != "" {
			inFiles[f.Path]++
		}
	}
	for path, n := range inFiles {
		if pos[0] == plaintext.File {
			fmt.Fprintf(e.stdout, "removed %s\n", path)
		} else {
			fmt.Fprintf(e.stdout, "removed %d entries from %s\n", n, path)
		}
	}
	if pos[0] == plaintext.GH {
		fmt.Fprintln(e.stdout, "gh no longer holds these tokens: run gh as keyfob exec -- gh … (or GH_TOKEN=$(keyfob token URL) gh …); keyfob setup git replaces gh's git helper")
		if len(inFiles) < len(found) {
			fmt.Fprintln(e.stdout, "tokens gh keeps in its keyring stay there: gh auth logout removes them")
		}
	}
	return nil
}

// readSource reads one source's files; a default file that is not there is
// skipped, and a source with none of them says so.
func readSource(kind string, files []string, host, user string) ([]plaintext.Found, error) {
	home, _ := os.UserHomeDir()
	var read func(string) ([]plaintext.Found, error)
	defaults := false
	switch kind {
	case plaintext.GitCredentials:
		read = plaintext.ReadGitCredentials
		if len(files) == 0 {
			files, defaults = plaintext.GitCredentialFiles(home, os.Getenv("XDG_CONFIG_HOME")), true
		}
	case plaintext.Netrc:
		read = plaintext.ReadNetrc
		if len(files) > 1 {
			return nil, usageError{"import netrc takes at most one FILE"}
		}
		if len(files) == 0 {
			files, defaults = []string{home + "/.netrc"}, true
		}
	case plaintext.File:
		if len(files) != 1 || host == "" {
			return nil, usageError{"import file takes one PATH and --host H"}
		}
		return plaintext.ReadFile(files[0], host, user)
	case plaintext.GH:
		if len(files) != 0 {
			return nil, usageError{"import gh takes no FILE: it reads gh's hosts.yml ($GH_CONFIG_DIR, else ~/.config/gh)"}
		}
		dir := plaintext.GHConfigDir(os.Getenv("GH_CONFIG_DIR"), os.Getenv("XDG_CONFIG_HOME"), home)
		fs, err := plaintext.ReadGH(dir, plaintext.GHToken)
		if errors.Is(err, plaintext.ErrNoSource) {
			return nil, hinted{fmt.Errorf("no gh config at %s", dir), "set GH_CONFIG_DIR if gh keeps it elsewhere"}
		}
		return fs, err
	default:
		return nil, usageError{"keyfob " + importUsage}
	}
	var out []plaintext.Found
	seen := 0
	for _, f := range files {
		fs, err := read(f)
		if defaults && errors.Is(err, plaintext.ErrNoSource) {
			continue
		}
		if err != nil {
			plaintext.Wipe(out)
			return nil, err
		}
		seen++
		out = append(out, fs...)
	}
	if seen == 0 {
		return nil, hinted{fmt.Errorf("no %s file at %s", kind, strings.Join(files, " or ")), "name the file: keyfob import " + kind + " FILE"}
	}
	return out, nil
}
