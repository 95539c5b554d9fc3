package view

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/keyfob/keyfob/client"
)

// Status writes the agent's status s and, unless it is locked, its tokens
// and apps, as keyfob status prints them.
func Status(w io.Writer, s *client.Status, toks []client.TokenInfo, apps []client.AppInfo) {
	state := "unlocked"
	switch {
	case s.KeychainLocked:
		state = "locked: " + s.LockError + " (the agent loads the tokens once it is unlocked)"
	case s.Locked && s.LockHint != "":
		state = "locked: " + s.LockError
	case s.Locked:
		state = "locked (" + s.LockError + "): run keyfob unlock"
	}
	fmt.Fprintf(w, "agent:   pid %d, %s backend, %s\n", s.PID, s.Backend, state)
	if s.Locked && s.LockHint != "" {
		fmt.Fprintf(w, "fix:     %s\n", s.LockHint)
	}
	fmt.Fprintf(w, "socket:  %s\n", s.Socket)
	fmt.Fprintf(w, "audit:   %s\n", s.AuditLog)
	if s.Config != "" {
		fmt.Fprintf(w, "config:  %s\n", s.Config)
	}
	if s.ConfigErr != "" {
		fmt.Fprintf(w, "config error (previous config kept): %s\n", s.ConfigErr)
	}
	for _, r := range s.RouteErrs {
		fmt.Fprintf(w, "route error (the route answers nothing): %s\n", r)
	}
	if s.Locked {
		return
	}
	fmt.Fprintf(w, "tokens:  %d\n\n", len(toks))
	if len(toks) > 0 {
		Tokens(w, toks)
	}
	for _, t := range toks {
		if t.Reason != "" {
			fmt.Fprintf(w, "%s: %s: %s\n", t.Name, t.State, t.Reason)
		}
	}
	if len(apps) > 0 {
		fmt.Fprintf(w, "\napps:    %d\n\n", len(apps))
		Apps(w, apps)
	}
}

// StatusJSON writes the agent's status and its tokens and apps as one
// indented JSON object, as keyfob status --json prints it.
func StatusJSON(w io.Writer, s *client.Status, toks []client.TokenInfo, apps []client.AppInfo) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Agent  *client.Status     `json:"agent"`
		Tokens []client.TokenInfo `json:"tokens"`
		Apps   []client.AppInfo   `json:"apps,omitempty"`
	}{s, toks, apps})
}

// List writes the masked inventory, as keyfob list prints it: the tokens,
// then the apps, or a line saying how to add the first token.
func List(w io.Writer, toks []client.TokenInfo, apps []client.AppInfo) {
	if len(toks) == 0 && len(apps) == 0 {
		fmt.Fprintln(w, "no tokens: add one with keyfob add NAME --host github.com")
		return
	}
	if len(toks) > 0 {
		Tokens(w, toks)
	}
	if len(apps) > 0 {
		if len(toks) > 0 {
			fmt.Fprintln(w)
		}
		Apps(w, apps)
	}
}
