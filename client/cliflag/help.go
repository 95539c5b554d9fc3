package cliflag

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Help writes a command's help: its synopsis, then every flag of fs in
// order, as --name with its value's kind, its usage and its default (when
// the default is not the zero value).
func Help(w io.Writer, synopsis string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n", synopsis)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if n++; n == 1 {
			fmt.Fprintln(w, "flags:")
		}
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + strings.ToUpper(kind)
		}
		fmt.Fprintf(w, "%s\n        %s", line, usage)
		if !zeroDefault(f.DefValue) {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

func zeroDefault(v string) bool {
	switch v {
	case "", "0", "false", "0s", "[]":
		return true
	}
	return false
}
