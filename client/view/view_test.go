package view

import (
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
)

func TestListEmpty(t *testing.T) {
	var b strings.Builder
	List(&b, nil, nil)
	if want := "no tokens: add one with keyfob add NAME --host github.com\n"; b.String() != want {
		t.Errorf("List(nil, nil) = %q, want %q", b.String(), want)
	}
}

func TestListTokensThenApps(t *testing.T) {
	var b strings.Builder
	List(&b, []client.TokenInfo{{Name: "work", Masked: "ghp_****wxyz", Hosts: []string{"github.com"}}},
		[]client.AppInfo{{Name: "bot", AppID: 7, Owner: "acme"}})
	out := b.String()
	tok, app := strings.Index(out, "ghp_****wxyz"), strings.Index(out, "installed on acme")
	if tok < 0 || app < tok || !strings.Contains(out, "\n\nAPP") {
		t.Errorf("List = %q, want the token table, a blank line, then the apps", out)
	}
}

func TestWhichNone(t *testing.T) {
	var b strings.Builder
	Which(&b, &client.Response{Reason: "no token allows this host",
		Candidates: []client.Candidate{{Token: "work", Reason: "host not allowed"}}})
	if want := "token:  none\nwhy:    no token allows this host\nnot work: host not allowed\n"; b.String() != want {
		t.Errorf("Which = %q, want %q", b.String(), want)
	}
}
