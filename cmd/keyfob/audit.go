package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
)

// followEvery is how often keyfob audit --follow looks for new lines.
const followEvery = 200 * time.Millisecond

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
	for {
		line, err := r.Next()
		switch {
		case err == nil && *raw:
			e.stdout.Write(line)
		case err == nil:
			fmt.Fprintln(e.stdout, formatLine(line))
		case !errors.Is(err, io.EOF):
			return err
		case !*follow:
			return nil
		default:
			time.Sleep(followEvery)
		}
	}
}

// parseWhen reads --since and --until: a duration back from now, a date
// (midnight, local time) or an RFC 3339 time.
func parseWhen(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := parseDuration(s); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Sprintf("%s %q: want a duration (1h, 7d), a date (2026-11-21) or an RFC 3339 time", flag, s)}
}

// formatLine prints an audit line for a person: local time, op, decision,
// then the fields that are set, and the reason last.
func formatLine(line []byte) string {
	var f map[string]any
	if json.Unmarshal(line, &f) != nil {
		return strings.TrimSpace(string(line))
	}
	str := func(k string) string {
		v, _ := f[k].(string)
		return v
	}
	when := str(audit.FieldTime)
	if t, err := time.Parse(time.RFC3339Nano, when); err == nil {
		when = t.Local().Format("2006-01-02 15:04:05")
	}
	out := []string{when, str(audit.FieldOp), str(audit.FieldDecision)}
	for _, k := range []string{audit.FieldToken, audit.FieldGrant, audit.FieldHost, audit.FieldPath, audit.FieldUsername, audit.FieldFP, audit.FieldMint} {
		if v := str(k); v != "" {
			out = append(out, k+"="+v)
		}
	}
	if pid, ok := f[audit.FieldPID].(float64); ok && pid != 0 {
		out = append(out, fmt.Sprintf("pid=%d", int(pid)))
	}
	if v := str(audit.FieldExe); v != "" {
		out = append(out, "exe="+v)
	}
	if v := str(audit.FieldReason); v != "" {
		out = append(out, fmt.Sprintf("(%s)", v))
	}
	return strings.Join(out, " ")
}
