package config

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// lineIndex finds where keys and [[route]] tables were written. The TOML
// decoder keeps positions only for syntax errors, so a small scan of the
// source supplies them for the errors found after decoding. It understands
// table headers, bare and dotted keys, and skips multi-line strings; a key
// it cannot place is reported with the file name alone.
type lineIndex struct {
	routes []int            // line of each [[route]] header
	keys   map[string][]int // "table.key" -> lines, in order
	used   map[string]int
}

func scanLines(data []byte) *lineIndex {
	ix := &lineIndex{keys: map[string][]int{}, used: map[string]int{}}
	table := ""
	inMulti := ""
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		t := strings.TrimSpace(line)
		if inMulti != "" {
			if strings.Count(t, inMulti)%2 == 1 {
				inMulti = ""
			}
			continue
		}
		switch {
		case t == "" || strings.HasPrefix(t, "#"):
			continue
		case strings.HasPrefix(t, "[["):
			name := cleanKey(strings.TrimSuffix(strings.SplitN(t[2:], "]]", 2)[0], "]]"))
			table = name
			if name == "route" {
				ix.routes = append(ix.routes, n)
			}
			ix.keys[name] = append(ix.keys[name], n)
			continue
		case strings.HasPrefix(t, "["):
			table = cleanKey(strings.SplitN(t[1:], "]", 2)[0])
			ix.keys[table] = append(ix.keys[table], n)
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		full := cleanKey(k)
		if table != "" {
			full = table + "." + full
		}
		ix.keys[full] = append(ix.keys[full], n)
		for _, q := range []string{`"""`, `'''`} {
			if strings.Count(v, q)%2 == 1 {
				inMulti = q
			}
		}
	}
	return ix
}

// cleanKey normalises a key as written ("a . b", `"a"`) to toml.Key's form.
func cleanKey(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return toml.Key(parts).String()
}

// source returns "path:line" for the next unplaced occurrence of key k.
func (ix *lineIndex) source(path string, k toml.Key) string {
	name := k.String()
	lines := ix.keys[name]
	i := ix.used[name]
	if i >= len(lines) {
		return path
	}
	ix.used[name] = i + 1
	return fmt.Sprintf("%s:%d", path, lines[i])
}

// routeSource returns "path:line" of the i-th [[route]] table.
func (ix *lineIndex) routeSource(path string, i int) string {
	if i < len(ix.routes) {
		return fmt.Sprintf("%s:%d", path, ix.routes[i])
	}
	return path
}
