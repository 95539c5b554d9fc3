package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/99designs/keyring"

	_ "github.com/keyfob/keyfob/daemon/busenv" // before keyring's init

	"github.com/keyfob/keyfob/client"
)

// The item codec every kind shares: tokens, apps and remembered
// credentials are read, written and removed through these.

// keys lists keyfob's keys under prefix. Secret Service returns every item
// in the collection and the file backend every file in the directory, so
// filter.
func (s *Store) keys(prefix string) ([]string, error) {
	if s.kr == nil {
		return nil, errClosed
	}
	all, err := s.kr.Keys()
	if err = s.classify(err); err != nil {
		return nil, fmt.Errorf("list %s keyring: %w", s.backend, err)
	}
	var keys []string
	for _, k := range all {
		if strings.HasPrefix(k, prefix) && ValidName(strings.TrimPrefix(k, prefix)) == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}

// read decodes the item at key into v, and its raw JSON field *raw into a
// Secret. The item's data, and raw, are wiped before it returns.
func (s *Store) read(key string, v any, raw *json.RawMessage) (client.Secret, error) {
	it, err := s.getItem(key)
	defer clear(it.Data)
	if errors.Is(err, keyring.ErrKeyNotFound) {
		return client.Secret{}, ErrNotFound
	}
	if err != nil {
		return client.Secret{}, fmt.Errorf("read %s from %s keyring: %w", key, s.backend, err)
	}
	err = json.Unmarshal(it.Data, v)
	defer clear(*raw)
	if err != nil {
		return client.Secret{}, fmt.Errorf("read %s from %s keyring: not a keyfob item", key, s.backend)
	}
	if *raw == nil {
		return client.Secret{}, nil
	}
	sec, err := client.DecodeSecretJSON(*raw)
	if err != nil {
		return client.Secret{}, fmt.Errorf("read %s from %s keyring: not a keyfob item", key, s.backend)
	}
	return sec, nil
}

// loadAll reads every item under prefix with get. An item that does not
// decode is skipped and reported in the returned errors list.
func loadAll[T any](s *Store, prefix string, get func(key string) (T, error)) ([]T, []error, error) {
	keys, err := s.keys(prefix)
	if err != nil {
		return nil, nil, err
	}
	var out []T
	var bad []error
	for _, k := range keys {
		v, err := get(k)
		if errors.Is(err, ErrKeychainLocked) {
			// Locked is not empty, nor every item broken.
			return nil, nil, err
		}
		if err != nil {
			bad = append(bad, err)
			continue
		}
		out = append(out, v)
	}
	return out, bad, nil
}

// field is a secret a keychain item holds, by its JSON key.
type field struct {
	key    string
	secret client.Secret
}

// write stores v as the item prefix+name, replacing any item of that name
// in one write. v holds no secret: secret is appended as the field named
// field, straight from its bytes, into a buffer sized once and wiped after
// the write.
func (s *Store) write(prefix, name, desc string, v any, key string, secret client.Secret) error {
	return s.writeFields(prefix, name, desc, v, field{key, secret})
}

// namedSecret is a secret and the JSON field it is written as.
type namedSecret struct {
	field  string
	secret client.Secret
}

// writeSecrets is write with several secrets, appended in order (an empty
// one after the first is left out).
func (s *Store) writeSecrets(prefix, name, desc string, v any, secrets []namedSecret) error {
	fs := make([]field, len(secrets))
	for i, n := range secrets {
		fs[i] = field{n.field, n.secret}
	}
	return s.writeFields(prefix, name, desc, v, fs...)
}

// writeFields is write with several secrets: each of fields after the
// first is left out when empty.
func (s *Store) writeFields(prefix, name, desc string, v any, fields ...field) error {
	if err := ValidName(name); err != nil {
		return err
	}
	js, err := json.Marshal(v)
	if err != nil || len(js) < 2 || js[len(js)-1] != '}' {
		return fmt.Errorf("encode %s%s: %v", prefix, name, err)
	}
	n := len(js) + 2
	for _, f := range fields {
		n += len(f.key) + 4 + 6*f.secret.Len() + 2
	}
	data := make([]byte, 0, n)
	defer clear(data[:cap(data)])
	data = append(data, js[:len(js)-1]...)
	for i, f := range fields {
		if i > 0 && f.secret.IsZero() {
			continue
		}
		data = append(data, ',', '"')
		data = append(data, f.key...)
		data = append(data, '"', ':')
		data = f.secret.AppendJSON(data)
	}
	data = append(data, '}')
	return s.set(keyring.Item{Key: prefix + name, Label: prefix + name, Description: desc, Data: data})
}

// remove deletes the item prefix+name.
func (s *Store) remove(prefix, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	key := prefix + name
	it, err := s.getItem(key)
	clear(it.Data)
	switch {
	case errors.Is(err, keyring.ErrKeyNotFound):
		return ErrNotFound
	case errors.Is(err, errClosed):
		return err
	}
	err = s.kr.Remove(key)
	if errors.Is(err, keyring.ErrKeyNotFound) || errors.Is(err, os.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("remove %s from %s keyring: %w", key, s.backend, err)
	}
	return nil
}
