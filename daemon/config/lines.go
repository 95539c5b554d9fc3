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

// sectionSource returns "path:line" of the i-th [[name]] table.
func (ix *lineIndex) sectionSource(path, name string, i int) string {
	if lines := ix.keys[name]; i < len(lines) {
		return fmt.Sprintf("%s:%d", path, lines[i])
	}
	return path
}

// MaxDepth bounds how deeply a config may nest arrays, inline tables and
// dotted keys, counted together. The TOML decoder recurses once per level
// of arrays and inline tables, and its memory for a dotted key grows with
// the square of the key's length: without a bound, a file of 1 MiB of "["
// takes a gigabyte, and a dotted key of a few thousand parts more. A real
// config nests three or four levels.
const MaxDepth = 32

// tooDeep scans TOML source, skipping strings and comments, and returns the
// line where open arrays and inline tables plus the parts of the dotted key
// being written first exceed limit, or 0 if they never do. It is linear in
// the input and allocates nothing. Dots are counted between separators
// (= , [ ] { } and newlines), so a float's one dot also counts, which
// matters nowhere near the limit.
func tooDeep(data []byte, limit int) int {
	line, open, dots := 1, 0, 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			line++
			dots = 0
		case '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			i, line = skipString(data, i, line)
		case '[', '{':
			open++
			dots = 0
		case ']', '}':
			open = max(open-1, 0)
			dots = 0
		case '=', ',':
			dots = 0
		case '.':
			dots++
		}
		if open+dots > limit {
			return line
		}
	}
	return 0
}

// skipString skips the string whose opening quote is at data[i], basic
// ("), literal ('), or either multi-line kind, and returns the index of its
// last byte and the line it ends on. A single-line string ends at the end
// of its line even when it is not closed (the decoder reports that).
func skipString(data []byte, i, line int) (int, int) {
	q := data[i]
	if i+2 < len(data) && data[i+1] == q && data[i+2] == q {
		for j := i + 3; j < len(data); j++ {
			switch {
			case data[j] == '\n':
				line++
			case data[j] == '\\' && q == '"':
				if j+1 < len(data) && data[j+1] == '\n' {
					line++
				}
				j++
			case data[j] == q && j+2 < len(data) && data[j+1] == q && data[j+2] == q:
				return j + 2, line
			}
		}
		return len(data), line
	}
	for j := i + 1; j < len(data); j++ {
		switch {
		case data[j] == '\n':
			return j - 1, line
		case data[j] == '\\' && q == '"':
			if j+1 < len(data) && data[j+1] == '\n' {
				return j, line
			}
			j++
		case data[j] == q:
			return j, line
		}
	}
	return len(data), line
}
