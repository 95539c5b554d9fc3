package view

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyfob/keyfob/client"
)

// Grant describes grant g, as keyfob grant prints it after the path.
func Grant(w io.Writer, g client.GrantInfo) {
	fmt.Fprintf(w, "urls:    %s\n", strings.Join(g.URLs, " "))
	fmt.Fprintf(w, "expires: %s (in %s)\n", g.Expires.UTC().Format(time.DateTime+" MST"), time.Until(g.Expires).Round(time.Second))
	if g.MaxUses > 0 {
		fmt.Fprintf(w, "uses:    at most %d\n", g.MaxUses)
	}
	if g.Mode == client.GrantSocket {
		fmt.Fprintf(w, "uids:    %s\n", joinInts(g.UIDs))
	}
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Grants writes the grants alive, one a line under a header.
func Grants(w io.Writer, gs []client.GrantInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LABEL\tMODE\tURLS\tEXPIRES\tUSES\tUIDS\tPATH")
	for _, g := range gs {
		uses := strconv.Itoa(g.Uses)
		if g.MaxUses > 0 {
			uses += "/" + strconv.Itoa(g.MaxUses)
		}
		uidCol := joinInts(g.UIDs)
		if uidCol == "" {
			uidCol = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.Label, g.Mode, strings.Join(g.URLs, ","),
			g.Expires.UTC().Format(time.DateTime), uses, uidCol, g.Path)
	}
	return tw.Flush()
}
