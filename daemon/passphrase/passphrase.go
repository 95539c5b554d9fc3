// Package passphrase takes the secrets a user hands keyfob other than on
// the command line: the passphrase the agent is started with, for the file
// backend on headless machines, moved out of the environment before
// anything else runs; and a secret typed at a no-echo prompt, or piped on
// stdin. It is the only package that imports golang.org/x/term.
package passphrase

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/keyfob/keyfob/client"
)

// The file backend's passphrase can come with the agent's start, for
// headless machines: in KEYFOB_FILE_PASSPHRASE, on a file descriptor named
// by KEYFOB_PASSPHRASE_FD, or as the systemd credential keyfob-passphrase
// (LoadCredential=, in $CREDENTIALS_DIRECTORY). docs/security.md says what
// each costs.
const (
	passEnv     = "KEYFOB_FILE_PASSPHRASE"
	passFDEnv   = "KEYFOB_PASSPHRASE_FD"
	passCredEnv = "CREDENTIALS_DIRECTORY"
	passCred    = "keyfob-passphrase"
	// maxPass bounds a passphrase read from a descriptor or a file, and
	// fits in a pipe's buffer, so the hand-over in reexec cannot block.
	maxPass = 4096
)

// Start returns the passphrase the agent was started with, in
// bytes the agent owns, or a zero Secret. On Linux, a passphrase in the
// environment is first moved out of it: the process re-executes itself
// without the variable and reads the passphrase from a pipe (reexec), so
// that neither /proc/PID/environ nor the memory of the agent that serves
// holds it. Start then does not return.
func Start() (client.Secret, error) {
	if v, ok := os.LookupEnv(passEnv); ok {
		if err := reexecWithout(v); err != nil {
			return client.Secret{}, err
		}
		// Platforms that cannot re-execute keep the old behaviour: the
		// variable leaves the Go environment, not the kernel's copy.
		os.Unsetenv(passEnv)
		return client.NewSecret(v), nil
	}
	if v, ok := os.LookupEnv(passFDEnv); ok {
		os.Unsetenv(passFDEnv)
		return readPassFD(v)
	}
	if dir := os.Getenv(passCredEnv); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, passCred))
		if errors.Is(err, os.ErrNotExist) {
			return client.Secret{}, nil
		}
		if err != nil {
			return client.Secret{}, fmt.Errorf("read the credential %s: %w", passCred, err)
		}
		if len(b) > maxPass {
			clear(b)
			return client.Secret{}, fmt.Errorf("the credential %s is longer than %d bytes", passCred, maxPass)
		}
		// One final newline is what echo and most editors add.
		return client.NewSecretBytes(bytes.TrimSuffix(b, []byte("\n"))), nil
	}
	return client.Secret{}, nil
}

// readAllPass reads r to its end into one buffer it never grows, so no
// partial copy is left behind.
func readAllPass(r io.Reader) (client.Secret, error) {
	b := make([]byte, maxPass+1)
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			clear(b)
			return client.Secret{}, err
		}
	}
	if n > maxPass {
		clear(b)
		return client.Secret{}, fmt.Errorf("passphrase longer than %d bytes", maxPass)
	}
	return client.NewSecretBytes(b[:n:n]), nil
}
