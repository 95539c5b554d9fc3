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

// A keychain that cannot be read shows its words and the fix, not keyfob
// unlock alone; a locked keychain says the agent loads the tokens itself.
func TestStatusKeychain(t *testing.T) {
	var b strings.Builder
	Status(&b, &client.Status{PID: 7, Backend: "pass", Locked: true, LockError: "the pass keychain cannot be read: the pass store /s is not initialised (it has no .gpg-id)",
		LockHint: "create the store (pass init YOUR-GPG-KEY-ID), then keyfob unlock"}, nil, nil)
	if out := b.String(); !strings.Contains(out, "pass backend, locked: the pass keychain cannot be read: the pass store /s is not initialised") ||
		!strings.Contains(out, "\nfix:     create the store") || strings.Contains(out, "run keyfob unlock\n") {
		t.Errorf("Status(unreadable keychain) = %q", out)
	}
	b.Reset()
	Status(&b, &client.Status{PID: 7, Backend: "pass", Locked: true, KeychainLocked: true, LockError: "the pass store's gpg key is locked", LockHint: "give gpg-agent the key's passphrase"}, nil, nil)
	if out := b.String(); !strings.Contains(out, "locked: the pass store's gpg key is locked (the agent loads the tokens once it is unlocked)") ||
		!strings.Contains(out, "fix:     give gpg-agent") || strings.Contains(out, "tokens:") {
		t.Errorf("Status(locked keychain) = %q", out)
	}
}
