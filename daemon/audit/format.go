package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format renders an audit line for a person: local time, op, decision,
// then the fields that are set, and the reason last. A line that is not
// JSON comes back as it is, trimmed.
func Format(line []byte) string {
	var f map[string]any
	if json.Unmarshal(line, &f) != nil {
		return strings.TrimSpace(string(line))
	}
	str := func(k string) string {
		v, _ := f[k].(string)
		return v
	}
	when := str(FieldTime)
	if t, err := time.Parse(time.RFC3339Nano, when); err == nil {
		when = t.Local().Format("2006-01-02 15:04:05")
	}
	out := []string{when, str(FieldOp), str(FieldDecision)}
	for _, k := range []string{FieldToken, FieldGrant, FieldHost, FieldPath, FieldUsername, FieldFP, FieldMint} {
		if v := str(k); v != "" {
			out = append(out, k+"="+v)
		}
	}
	if pid, ok := f[FieldPID].(float64); ok && pid != 0 {
		out = append(out, fmt.Sprintf("pid=%d", int(pid)))
	}
	if v := str(FieldExe); v != "" {
		out = append(out, "exe="+v)
	}
	if v := str(FieldReason); v != "" {
		out = append(out, fmt.Sprintf("(%s)", v))
	}
	return strings.Join(out, " ")
}

// FollowEvery is how often Tail looks for new lines when it follows.
const FollowEvery = 200 * time.Millisecond

// Tail writes r's lines to w, raw or as Format renders them, up to the
// end of the log; with follow it keeps looking for new ones, across
// rotations, until an error.
func Tail(w io.Writer, r *Reader, raw, follow bool) error {
	for {
		line, err := r.Next()
		switch {
		case err == nil && raw:
			if _, err := w.Write(line); err != nil {
				return err
			}
		case err == nil:
			if _, err := fmt.Fprintln(w, Format(line)); err != nil {
				return err
			}
		case !errors.Is(err, io.EOF):
			return err
		case !follow:
			return nil
		default:
			time.Sleep(FollowEvery)
		}
	}
}
