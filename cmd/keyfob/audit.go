package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/keyfob/keyfob/client"
)

func cmdAudit(e *env, args []string) error {
	fs := newFlags("audit", e)
	since := fs.String("since", "", "only lines newer than this duration (1h, 7d)")
	tok := fs.String("token", "", "only lines about this token")
	follow := fs.Bool("follow", false, "keep printing new lines")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	var after time.Time
	if *since != "" {
		d, err := parseDuration(*since)
		if err != nil {
			return usageError{fmt.Sprintf("--since %q: want a duration such as 1h or 7d", *since)}
		}
		after = time.Now().Add(-d)
	}
	path := client.AuditPath()
	f, err := os.Open(path)
	if err != nil {
		return hinted{fmt.Errorf("open audit log: %w", err), "the agent writes it once it has served a request"}
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if keep(line, after, *tok) {
				e.stdout.Write(line)
			}
		} else if len(line) > 0 {
			// A partial line: the agent is still writing it.
			if _, serr := f.Seek(-int64(len(line)), io.SeekCurrent); serr != nil {
				return serr
			}
			r.Reset(f)
		}
		if errors.Is(err, io.EOF) {
			if !*follow {
				return nil
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
	}
}

func keep(line []byte, after time.Time, tok string) bool {
	var ev struct {
		Time  time.Time `json:"time"`
		Token string    `json:"token"`
	}
	if json.Unmarshal(line, &ev) != nil {
		return false
	}
	return (after.IsZero() || ev.Time.After(after)) && (tok == "" || ev.Token == tok)
}
