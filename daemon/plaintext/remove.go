package plaintext

import (
	"fmt"
	"io"
)

// Remove takes found out of their source once every one of results is
// read back from the agent (Verify), and tells w what it removed: each
// token file, or how many entries left each file. A failure is a
// *HintError, and changes no source when it is Verify's.
func Remove(w io.Writer, call Call, kind string, found []Found, results []Result) error {
	if err := Verify(call, results); err != nil {
		return &HintError{fmt.Errorf("reading the tokens back: %w; nothing was removed", err), "keyfob list shows what keyfob holds"}
	}
	if err := Scrub(found); err != nil {
		return &HintError{fmt.Errorf("the tokens are in keyfob, but %w", err), "remove the entries by hand, or fix the file and run keyfob import --remove again"}
	}
	inFiles := map[string]int{}
	var paths []string
	for _, f := range found {
		if f.Path != "" {
			if inFiles[f.Path] == 0 {
				paths = append(paths, f.Path)
			}
			inFiles[f.Path]++
		}
	}
	for _, path := range paths {
		if kind == File {
			fmt.Fprintf(w, "removed %s\n", path)
		} else {
			fmt.Fprintf(w, "removed %d entries from %s\n", inFiles[path], path)
		}
	}
	if kind == GH {
		fmt.Fprintln(w, "gh no longer holds these tokens: run gh as keyfob exec -- gh … (or GH_TOKEN=$(keyfob token URL) gh …); keyfob setup git replaces gh's git helper")
		if len(inFiles) < len(found) {
			fmt.Fprintln(w, "tokens gh keeps in its keyring stay there: gh auth logout removes them")
		}
	}
	return nil
}
