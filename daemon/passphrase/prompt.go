package passphrase

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/keyfob/keyfob/client"
)

// IsTerminal reports whether stdin is a terminal, where Read prompts
// without echo.
func IsTerminal(stdin io.Reader) bool {
	f, ok := stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Read reads a secret from the terminal without echo, or from stdin
// when stdin is not a terminal. Secrets never come from argv.
func Read(stdin io.Reader, stderr io.Writer, prompt string) (client.Secret, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return client.Secret{}, fmt.Errorf("read from terminal: %w", err)
		}
		defer clear(b)
		return client.NewSecret(strings.TrimSpace(string(b))), nil
	}
	// Several secrets from one stdin (a new passphrase, then again) share
	// one reader, or the first would buffer the second away: a caller
	// that reads more than one passes a *bufio.Reader.
	r, ok := stdin.(*bufio.Reader)
	if !ok {
		r = bufio.NewReader(io.LimitReader(stdin, client.MaxMessage/2))
	}
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return client.Secret{}, fmt.Errorf("read stdin: %w", err)
	}
	return client.NewSecret(strings.TrimRight(line, "\r\n")), nil
}

// ErrEmpty is ReadNew's error for an empty passphrase.
var ErrEmpty = errors.New("empty passphrase")

// ErrDiffer is ReadNew's error when the second passphrase is not the first.
var ErrDiffer = errors.New("the two passphrases differ; nothing was created")

// ReadNew reads a new keyring's passphrase twice, as Read does, and
// returns it when both are the same and not empty. What it read is wiped
// when it fails, and the second copy always.
func ReadNew(stdin io.Reader, stderr io.Writer) (client.Secret, error) {
	if !IsTerminal(stdin) {
		stdin = bufio.NewReader(io.LimitReader(stdin, client.MaxMessage))
	}
	p, err := Read(stdin, stderr, "new keyfob passphrase: ")
	if err != nil {
		return client.Secret{}, err
	}
	if p.IsZero() {
		return client.Secret{}, ErrEmpty
	}
	again, err := Read(stdin, stderr, "the same passphrase again: ")
	if err != nil {
		p.Wipe()
		return client.Secret{}, err
	}
	same := p.Equal(again)
	again.Wipe()
	if !same {
		p.Wipe()
		return client.Secret{}, ErrDiffer
	}
	return p, nil
}
