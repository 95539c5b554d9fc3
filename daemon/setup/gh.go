package setup

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Shells keyfob setup gh writes a function for.
var Shells = []string{"bash", "zsh", "fish"}

// ErrShell is wrapped by the errors about a shell keyfob setup gh does
// not know.
var ErrShell = errors.New("unknown shell")

func shellError(shell string) error {
	return fmt.Errorf("shell %q: want one of %s%w", shell, strings.Join(Shells, ", "), silent{ErrShell})
}

// silent wraps an error without adding to the message.
type silent struct{ error }

func (silent) Error() string   { return "" }
func (s silent) Unwrap() error { return s.error }

// GHFunction is the shell function that makes a plain `gh …` run as
// `keyfob exec --fallback -- gh …`: with the token the current
// repository's route chooses, and untouched (with a one-line hint) when
// keyfob has none for it.
func GHFunction(shell string) (string, error) {
	switch shell {
	case "bash", "zsh":
		return "# keyfob: gh gets the token of the current repository's route\n" +
			"gh() { command keyfob exec --fallback -- gh \"$@\"; }\n", nil
	case "fish":
		return "# keyfob: gh gets the token of the current repository's route\n" +
			"function gh --wraps gh; command keyfob exec --fallback -- gh $argv; end\n", nil
	}
	return "", shellError(shell)
}

// GHLoader is the rc file of shell under home and the one line that
// loads the function in it.
func GHLoader(shell, home string) (rc, line string, err error) {
	switch shell {
	case "bash":
		return filepath.Join(home, ".bashrc"), `eval "$(keyfob setup gh --shell bash)"`, nil
	case "zsh":
		return filepath.Join(home, ".zshrc"), `eval "$(keyfob setup gh --shell zsh)"`, nil
	case "fish":
		return filepath.Join(home, ".config", "fish", "conf.d", "keyfob.fish"), "keyfob setup gh --shell fish | source", nil
	}
	return "", "", shellError(shell)
}

// GHInstalled reports whether rc already holds line.
func GHInstalled(rc, line string) (bool, error) {
	b, err := os.ReadFile(rc)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if strings.TrimSpace(string(l)) == line {
			return true, nil
		}
	}
	return false, nil
}

// InstallGH appends line to rc unless it is there already; it reports
// whether it changed the file.
func InstallGH(rc, line string) (bool, error) {
	if ok, err := GHInstalled(rc, line); ok || err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(rc), 0o755); err != nil {
		return false, err
	}
	f, err := os.OpenFile(rc, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sep := ""
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		sep = "\n"
	}
	if _, err := fmt.Fprintf(f, "%s# keyfob: gh through keyfob exec (keyfob setup gh)\n%s\n", sep, line); err != nil {
		return false, err
	}
	return true, f.Close()
}
