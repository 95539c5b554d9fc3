package ghapp

import (
	"fmt"
	"io"
	"os"

	"github.com/keyfob/keyfob/client"
)

// MaxKeyFile bounds a private key file: GitHub's keys are PEM, a few KiB.
const MaxKeyFile = 16 << 10

// ReadKeyFile reads an App's private key from the file at path, the .pem
// GitHub offers for download, without checking its form (ParseKey does,
// in the agent).
func ReadKeyFile(path string) (client.Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return client.Secret{}, fmt.Errorf("read private key: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFile+1))
	defer clear(b)
	switch {
	case err != nil:
		return client.Secret{}, fmt.Errorf("read private key: %w", err)
	case len(b) > MaxKeyFile:
		return client.Secret{}, fmt.Errorf("read private key %s: larger than %d KiB, so not a GitHub App key", path, MaxKeyFile>>10)
	case len(b) == 0:
		return client.Secret{}, fmt.Errorf("read private key %s: empty file", path)
	}
	return client.NewSecret(string(b)), nil
}
