package plaintext

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scrub removes the entries in fs from their sources: lines of git's store
// and .netrc are dropped, gh's hosts.yml loses those users' oauth_token,
// a token file is removed. Each file is checked first (it must still hold
// what was read, and a .netrc entry must have its lines to itself), then
// rewritten whole: a new file beside it, with the same mode, renamed over
// it, so a crash leaves the old file or the new one and no copy. Lines and
// keys that were not imported are left as they were. A token gh keeps in a
// keyring is not in a file and is left alone.
func Scrub(fs []Found) error {
	byPath := map[string][]Found{}
	var paths []string
	for _, f := range fs {
		if f.Path == "" {
			continue
		}
		if byPath[f.Path] == nil {
			paths = append(paths, f.Path)
		}
		byPath[f.Path] = append(byPath[f.Path], f)
	}
	type plan struct {
		path string
		data []byte // nil: remove the file
	}
	var plans []plan
	defer func() {
		for _, p := range plans {
			clear(p.data)
		}
	}()
	for _, path := range paths {
		entries := byPath[path]
		data, err := scrubbed(path, entries)
		if err != nil {
			return err
		}
		plans = append(plans, plan{path, data})
	}
	for _, p := range plans {
		if p.data == nil {
			if err := os.Remove(p.path); err != nil {
				return fmt.Errorf("remove %s: %w", p.path, err)
			}
			continue
		}
		if err := replace(p.path, p.data); err != nil {
			return err
		}
	}
	return nil
}

// scrubbed returns path's content without entries, or nil to remove the
// file, after checking that it still holds them.
func scrubbed(path string, entries []Found) ([]byte, error) {
	kind := entries[0].Kind
	var now []Found
	var err error
	switch kind {
	case GitCredentials:
		now, err = ReadGitCredentials(path)
	case Netrc:
		now, err = ReadNetrc(path)
	case File:
		return nil, stillHolds(path, entries, func() ([]Found, error) {
			return ReadFile(path, entries[0].Host, entries[0].Username)
		})
	case GH:
		now, err = ReadGH(filepath.Dir(path), nil)
	default:
		return nil, fmt.Errorf("%s: cannot scrub a %s source", path, kind)
	}
	if err != nil {
		return nil, err
	}
	defer Wipe(now)
	for _, e := range entries {
		i := slices.IndexFunc(now, func(n Found) bool { return n.Line == e.Line && n.ghUser == e.ghUser && n.Secret.Equal(e.Secret) })
		if i < 0 {
			return nil, fmt.Errorf("%s changed since it was read; run keyfob import again", path)
		}
		if now[i].shared {
			return nil, fmt.Errorf("%s:%d holds %s's entry on a line with another entry; move it to lines of its own, then run keyfob import again", path, e.Line, e.Host)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(b)
	if kind == GH {
		return scrubGH(path, b, entries)
	}
	drop := map[int]bool{}
	for _, e := range entries {
		for _, l := range e.lines {
			drop[l] = true
		}
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	out := make([]byte, 0, len(b))
	for i, l := range lines {
		if !drop[i+1] {
			out = append(out, l...)
		}
	}
	return out, nil
}

func stillHolds(path string, entries []Found, read func() ([]Found, error)) error {
	now, err := read()
	if err != nil {
		return err
	}
	defer Wipe(now)
	if len(now) != 1 || !now[0].Secret.Equal(entries[0].Secret) {
		return fmt.Errorf("%s changed since it was read; run keyfob import again", path)
	}
	return nil
}

// scrubGH removes the imported users' oauth_token from hosts.yml, keeping
// everything else (gh's own settings, other users) as it was.
func scrubGH(path string, b []byte, entries []Found) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not gh's hosts.yml", path)
	}
	root := doc.Content[0]
	for _, e := range entries {
		host := value(root, e.Host, true)
		if host == nil {
			return nil, fmt.Errorf("%s changed since it was read; run keyfob import again", path)
		}
		if users := value(host, "users", false); users != nil {
			if u := value(users, e.ghUser, false); u != nil {
				deleteKey(u, "oauth_token")
			}
		}
		if active := value(host, "user", false); active != nil && active.Value == e.ghUser {
			deleteKey(host, "oauth_token")
		}
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(4)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	enc.Close()
	return out.Bytes(), nil
}

func value(m *yaml.Node, key string, fold bool) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i].Value; k == key || fold && strings.EqualFold(k, key) {
			return m.Content[i+1]
		}
	}
	return nil
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// replace writes data over path atomically, keeping path's mode.
func replace(path string, data []byte) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".keyfob-new")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists, left by an earlier run; remove it and try again", tmp)
	}
	if err != nil {
		return fmt.Errorf("rewrite %s: %w", path, err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(fi.Mode().Perm())
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("rewrite %s: %w", path, werr)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
