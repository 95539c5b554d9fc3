package main

import (
	"errors"
	"fmt"
	"strings"

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
		plaintext.DryRun(e.stdout, found, *name)
		return nil
	}
	results, err := plaintext.Import(call, found, *name)
	if err != nil {
		return fmt.Errorf("%w; nothing was stored, and the source is left as it was", err)
	}
	failed := plaintext.Report(e.stdout, e.stderr, results)
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
	return tell(plaintext.Remove(e.stdout, call, pos[0], found, results))
}

// readSource is plaintext.ReadSource, its errors told as keyfob tells
// them.
func readSource(kind string, files []string, host, user string) ([]plaintext.Found, error) {
	found, err := plaintext.ReadSource(kind, files, host, user)
	if errors.Is(err, plaintext.ErrUnknownSource) {
		return nil, usageError{"keyfob " + importUsage}
	} else if errors.Is(err, plaintext.ErrUsage) {
		return nil, usageError{err.Error()}
	}
	return found, tell(err)
}

// tell gives a plaintext.HintError its hint line.
func tell(err error) error {
	var h *plaintext.HintError
	if errors.As(err, &h) {
		return hinted{h.Err, h.Hint}
	}
	return err
}
