package main

import (
	"fmt"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/cliflag"
	"github.com/keyfob/keyfob/daemon/audit"
)

func cmdAudit(e *env, args []string) error {
	fs := newFlags("audit", e)
	since := fs.String("since", "", "only lines after this: a duration back from now (1h, 7d), a date (2026-11-21) or an RFC 3339 time")
	until := fs.String("until", "", "only lines before this (as --since)")
	var filter audit.Filter
	fs.StringVar(&filter.Op, "op", "", "only lines of this op (get, store, erase, add, rotate, grant, …)")
	fs.StringVar(&filter.Decision, "decision", "", "only lines with this decision (granted, no-match, denied, …)")
	fs.StringVar(&filter.Token, "token", "", "only lines about this token")
	fs.StringVar(&filter.Grant, "grant", "", "only lines of this grant (its label)")
	fs.StringVar(&filter.Host, "host", "", "only lines for this host")
	raw := fs.Bool("json", false, "print the raw JSON lines")
	follow := fs.Bool("follow", false, "keep printing new lines, across rotations")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	var err error
	if filter.After, err = parseWhen("--since", *since); err != nil {
		return err
	}
	if filter.Before, err = parseWhen("--until", *until); err != nil {
		return err
	}
	r, err := audit.OpenReader(client.AuditPath(), filter)
	if err != nil {
		return hinted{err, "the agent writes it once it has served a request"}
	}
	defer r.Close()
	return audit.Tail(e.stdout, r, *raw, *follow)
}

// parseWhen reads --since and --until (cliflag.When).
func parseWhen(flag, s string) (time.Time, error) {
	t, err := cliflag.When(s, time.Now())
	if err != nil {
		return t, usageError{fmt.Sprintf("%s %q: %v", flag, s, err)}
	}
	return t, nil
}
