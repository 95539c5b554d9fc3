package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
)

// followEvery is how often keyfob audit --follow looks for new lines.
const followEvery = 200 * time.Millisecond

func cmdAudit(e *env, args []string) error {
	fs := newFlags("audit", e)
	since := fs.String("since", "", "only lines newer than this duration (1h, 7d)")
	tok := fs.String("token", "", "only lines about this token")
	follow := fs.Bool("follow", false, "keep printing new lines")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	filter := audit.Filter{Token: *tok}
	if *since != "" {
		d, err := parseDuration(*since)
		if err != nil {
			return usageError{fmt.Sprintf("--since %q: want a duration such as 1h or 7d", *since)}
		}
		filter.After = time.Now().Add(-d)
	}
	r, err := audit.OpenReader(client.AuditPath(), filter)
	if err != nil {
		return hinted{err, "the agent writes it once it has served a request"}
	}
	defer r.Close()
	for {
		line, err := r.Next()
		switch {
		case err == nil:
			e.stdout.Write(line)
		case !errors.Is(err, io.EOF):
			return err
		case !*follow:
			return nil
		default:
			time.Sleep(followEvery)
		}
	}
}
