// Package view writes the agent's answers as keyfob's commands print
// them: token and app inventories, grants, which and status. It uses the
// standard library only.
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

// Tokens prints toks as a table, one a line, with their kind last
// ("user (refreshes)" for a token from keyfob login).
func Tokens(w io.Writer, toks []client.TokenInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTOKEN\tHOSTS\tUSERNAME\tSTATE\tAGE\tEXPIRES\tLAST USED\tKIND")
	for _, t := range toks {
		kind := t.Kind
		if kind == "" {
			kind = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Masked, strings.Join(t.Hosts, ","), t.Username,
			t.State, strings.TrimSuffix(ago(t.Created), " ago"), date(t.Expires), ago(t.LastUsed), kind)
	}
	tw.Flush()
}

// validated describes what the GitHub API said when the token was stored.
func Validated(t client.TokenInfo) string {
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

func Installation(ai client.AppInfo) string {
	switch {
	case ai.InstallationID != 0 && ai.Owner != "":
		return "installation " + strconv.FormatInt(ai.InstallationID, 10) + " on " + ai.Owner
	case ai.InstallationID != 0:
		return "installation " + strconv.FormatInt(ai.InstallationID, 10)
	}
	return "installed on " + ai.Owner
}

func Verified(ai client.AppInfo) string {
	if ai.Validation == "valid" {
		return "verified: " + ai.Reason
	}
	return ai.Validation + ": " + ai.Reason
}

// Apps writes the apps and the installation tokens cached for each,
// masked, with their scope and expiry.
func Apps(w io.Writer, apps []client.AppInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tAPP ID\tINSTALLATION\tHOSTS\tSTATE\tCACHED TOKENS")
	for _, a := range apps {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\n", a.Name, a.AppID, Installation(a), strings.Join(a.Hosts, ","), a.Validation, len(a.Cached))
	}
	tw.Flush()
	for _, a := range apps {
		for _, m := range a.Cached {
			fmt.Fprintf(w, "  %s: %s  installation %d  %s  expires %s UTC (in %s)\n", a.Name, m.Masked, m.Installation, m.Scope,
				m.Expires.UTC().Format(time.DateTime), time.Until(m.Expires).Round(time.Minute))
		}
	}
}
