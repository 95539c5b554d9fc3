package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyfob/keyfob/client"
)

func cmdAdd(e *env, args []string) error {
	fs := newFlags("add", e)
	var hosts hostList
	fs.Var(&hosts, "host", "host[:port] the token may go to (repeatable)")
	user := fs.String("username", "", "username git sends with the token (default x-access-token)")
	expires := fs.String("expires", "", "expiry: a date, RFC 3339 time, or duration")
	every := fs.String("rotate-every", "", "rotation period (default 30d)")
	noVerify := fs.Bool("no-verify", false, "do not check the token against the GitHub API")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"add takes exactly one NAME; the secret comes from the prompt or stdin, never from arguments"}
	}
	meta := &client.TokenMeta{Hosts: hosts, Username: *user, NoVerify: *noVerify}
	if meta.Expires, err = parseExpires(*expires); err != nil {
		return err
	}
	if *every != "" {
		d, err := parseDuration(*every)
		if err != nil || d <= 0 {
			return usageError{fmt.Sprintf("--rotate-every %q: want a duration such as 30d or 720h", *every)}
		}
		meta.RotateEvery = int64(d / time.Second)
	}
	if len(hosts) == 0 {
		return usageError{"add needs at least one --host"}
	}
	secret, err := readSecret(e, "token for "+pos[0]+": ")
	if err != nil {
		return err
	}
	resp, err := call(&client.Request{Op: client.OpAdd, Name: pos[0], Meta: meta, Secret: secret})
	if err != nil {
		return err
	}
	printWarnings(e, resp)
	fmt.Fprintf(e.stdout, "added %s (%s) for %s%s\n", pos[0], resp.Tokens[0].Masked, strings.Join(hosts, ", "), validated(resp.Tokens[0]))
	return nil
}

func cmdRotate(e *env, args []string) error {
	fs := newFlags("rotate", e)
	expires := fs.String("expires", "", "expiry of the new token")
	noVerify := fs.Bool("no-verify", false, "do not check the token against the GitHub API")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"rotate takes exactly one NAME"}
	}
	meta := &client.TokenMeta{NoVerify: *noVerify}
	if meta.Expires, err = parseExpires(*expires); err != nil {
		return err
	}
	secret, err := readSecret(e, "new token for "+pos[0]+": ")
	if err != nil {
		return err
	}
	resp, err := call(&client.Request{Op: client.OpRotate, Name: pos[0], Meta: meta, Secret: secret})
	if err != nil {
		return err
	}
	printWarnings(e, resp)
	fmt.Fprintf(e.stdout, "rotated %s (now %s)%s\n", pos[0], resp.Tokens[0].Masked, validated(resp.Tokens[0]))
	return nil
}

func cmdRemove(e *env, args []string) error {
	pos, err := parseFlags(newFlags("remove", e), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"remove takes exactly one NAME"}
	}
	if _, err := call(&client.Request{Op: client.OpRemove, Name: pos[0]}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %s\n", pos[0])
	return nil
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func date(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateOnly)
}

func printTokens(w io.Writer, toks []client.TokenInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTOKEN\tHOSTS\tUSERNAME\tSTATE\tAGE\tEXPIRES\tLAST USED\tKIND")
	for _, t := range toks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Masked, strings.Join(t.Hosts, ","), t.Username,
			t.State, strings.TrimSuffix(ago(t.Created), " ago"), date(t.Expires), ago(t.LastUsed), cmpOrStr(t.Kind, "-"))
	}
	tw.Flush()
}

func cmdList(e *env, args []string) error {
	if _, err := parseFlags(newFlags("list", e), args); err != nil {
		return err
	}
	resp, err := call(&client.Request{Op: client.OpList})
	if err != nil {
		return err
	}
	if len(resp.Tokens) == 0 && len(resp.Apps) == 0 {
		fmt.Fprintln(e.stdout, "no tokens: add one with keyfob add NAME --host github.com")
		return nil
	}
	if len(resp.Tokens) > 0 {
		printTokens(e.stdout, resp.Tokens)
	}
	if len(resp.Apps) > 0 {
		if len(resp.Tokens) > 0 {
			fmt.Fprintln(e.stdout)
		}
		printApps(e.stdout, resp.Apps)
	}
	return nil
}

func cmdStatus(e *env, args []string) error {
	fs := newFlags("status", e)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := call(&client.Request{Op: client.OpStatus})
	if err != nil {
		return err
	}
	var toks []client.TokenInfo
	var apps []client.AppInfo
	if !st.Status.Locked {
		l, err := call(&client.Request{Op: client.OpList})
		if err != nil {
			return err
		}
		toks, apps = l.Tokens, l.Apps
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Agent  *client.Status     `json:"agent"`
			Tokens []client.TokenInfo `json:"tokens"`
			Apps   []client.AppInfo   `json:"apps,omitempty"`
		}{st.Status, toks, apps})
	}
	s := st.Status
	state := "unlocked"
	switch {
	case s.KeychainLocked:
		state = "locked: " + s.LockError + " (the agent loads the tokens once it is unlocked)"
	case s.Locked:
		state = "locked (" + s.LockError + "): run keyfob unlock"
	}
	fmt.Fprintf(e.stdout, "agent:   pid %d, %s backend, %s\n", s.PID, s.Backend, state)
	fmt.Fprintf(e.stdout, "socket:  %s\n", s.Socket)
	fmt.Fprintf(e.stdout, "audit:   %s\n", s.AuditLog)
	if s.Config != "" {
		fmt.Fprintf(e.stdout, "config:  %s\n", s.Config)
	}
	if s.ConfigErr != "" {
		fmt.Fprintf(e.stdout, "config error (previous config kept): %s\n", s.ConfigErr)
	}
	for _, r := range s.RouteErrs {
		fmt.Fprintf(e.stdout, "route error (the route answers nothing): %s\n", r)
	}
	if s.Locked {
		return nil
	}
	fmt.Fprintf(e.stdout, "tokens:  %d\n\n", len(toks))
	if len(toks) > 0 {
		printTokens(e.stdout, toks)
	}
	for _, t := range toks {
		if t.Reason != "" {
			fmt.Fprintf(e.stdout, "%s: %s: %s\n", t.Name, t.State, t.Reason)
		}
	}
	if len(apps) > 0 {
		fmt.Fprintf(e.stdout, "\napps:    %d\n\n", len(apps))
		printApps(e.stdout, apps)
	}
	return nil
}

// validated describes what the GitHub API said when the token was stored.
func validated(t client.TokenInfo) string {
	switch t.Validation {
	case "valid":
		s := "; GitHub says: " + t.Login + ", " + t.Kind
		if t.Scopes != nil {
			s += ", scopes: " + strings.Join(t.Scopes, " ")
		}
		if !t.Expires.IsZero() {
			s += ", expires " + t.Expires.UTC().Format(time.DateTime) + " UTC"
		}
		return s
	case "":
		return ""
	}
	return "; " + t.Validation
}
