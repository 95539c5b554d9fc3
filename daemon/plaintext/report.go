package plaintext

import (
	"fmt"
	"io"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/view"
)

// DryRun tells w what Import would store: each of found, masked, under
// its name (name, when given).
func DryRun(w io.Writer, found []Found, name string) {
	for _, f := range found {
		n := name
		if n == "" {
			n = f.Name()
		}
		fmt.Fprintf(w, "would import %s (%s) for %s from %s\n", n, client.Mask(f.Secret), f.Host, f.Location())
	}
}

// Report tells what Import did, a line a token, masked: what was stored
// (with what GitHub said of it) or already held on stdout; the agent's
// warnings and what failed on stderr. It returns how many failed.
func Report(stdout, stderr io.Writer, results []Result) (failed int) {
	for _, r := range results {
		for _, w := range r.Warnings {
			fmt.Fprintf(stderr, "keyfob: warning: %s\n", w)
		}
		switch {
		case r.Err != nil:
			failed++
			fmt.Fprintf(stderr, "keyfob: error: %s from %s: %v\n", r.Name, r.Found.Location(), r.Err)
		case r.Already:
			fmt.Fprintf(stdout, "already in keyfob: %s (%s) from %s\n", r.Name, client.Mask(r.Found.Secret), r.Found.Location())
		default:
			fmt.Fprintf(stdout, "imported %s (%s) for %s from %s%s\n", r.Name, r.Info.Masked, r.Found.Host, r.Found.Location(), view.Validated(r.Info))
		}
	}
	return failed
}
