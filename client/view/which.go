package view

import (
	"fmt"
	"io"
	"strings"

	"github.com/keyfob/keyfob/client"
)

// Which writes keyfob which's answer: the token, the route that chose
// it, and why every other token did not answer.
func Which(w io.Writer, resp *client.Response) {
	if resp.Token == "" {
		fmt.Fprintf(w, "token:  none\nwhy:    %s\n", resp.Reason)
	} else {
		route := "none (no route matches; the token's host allowlist decides)"
		if resp.Route != "" {
			route = strings.TrimPrefix(resp.Reason, "route ")
		}
		fmt.Fprintf(w, "token:  %s\nroute:  %s\n", resp.Token, route)
		if resp.Route == "" {
			fmt.Fprintf(w, "why:    %s\n", resp.Reason)
		}
	}
	for _, c := range resp.Candidates {
		if !c.Chosen {
			fmt.Fprintf(w, "not %s: %s\n", c.Token, c.Reason)
		}
	}
	for _, warn := range resp.Warnings {
		fmt.Fprintf(w, "state:  %s\n", warn)
	}
}
