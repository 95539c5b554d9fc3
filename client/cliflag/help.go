package cliflag

import (
	"errors"
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

// helpOut is the output of a FlagSet made by New: package flag's own
// messages are dropped, and help goes to stdout.
type helpOut struct {
	stdout   io.Writer
	synopsis string
}

func (helpOut) Write(p []byte) (int, error) { return len(p), nil }

// New returns a FlagSet for the command name that reports nothing itself:
// the caller reports a parse error, and Parse (or Helped) writes the help
// asked for with -h or --help to stdout, as synopsis and every flag.
func New(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(helpOut{stdout, synopsis})
	fs.Usage = func() {}
	return fs
}

// Helped writes fs's help (for a FlagSet from New) when err, from parsing
// fs, is flag.ErrHelp, and returns err.
func Helped(fs *flag.FlagSet, err error) error {
	if o, ok := fs.Output().(helpOut); ok && errors.Is(err, flag.ErrHelp) {
		Help(o.stdout, o.synopsis, fs)
	}
	return err
}
