package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/listen"
	"github.com/keyfob/keyfob/daemon/server"
	"github.com/keyfob/keyfob/daemon/store"
)

// TestPeerLongHostBounded: a peer on the real socket asks for a 60 KB host,
// and for one with control characters; the agent's audit lines stay
// bounded, one JSON line each.
func TestPeerLongHostBounded(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "audit.log")
	alog, err := audit.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close()
	a := agent.New(agent.Config{Backend: store.File, Dir: filepath.Join(dir, "keyring"),
		Passphrase: client.NewSecret("test passphrase"), Audit: alog})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s", "agent.sock")
	l, err := listen.Unix(sock, listen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Go(func() { (&server.Server{Handler: a}).Serve(ctx, l) })
	defer func() { cancel(); bg.Wait() }()

	hosts := []string{
		strings.Repeat("h", 60_000) + ".example.com",
		"github.com\x1b[2J\x00" + strings.Repeat("\x01", 5000),
	}
	for _, h := range hosts {
		// The agent answers no token, or bad request: what matters is
		// what it audited.
		_, err := client.Call(sock, &client.Request{Op: client.OpGet,
			Cred: &client.Credential{Protocol: "https", Host: h, Path: strings.Repeat("p/", 1000)}})
		t.Logf("get with a %d-byte host: %v", len(h), err)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for sc := bufio.NewScanner(bytes.NewReader(b)); sc.Scan(); lines++ {
		line := sc.Bytes()
		var ev map[string]any
		if len(line) > 16<<10 || json.Unmarshal(line, &ev) != nil {
			t.Errorf("audit line %d is %d bytes (JSON: %v), want valid JSON of at most 16 KiB: %.200q", lines+1, len(line), json.Valid(line), line)
			continue
		}
		if host, _ := ev[audit.FieldHost].(string); len(host) > audit.MaxField {
			t.Errorf("audit line %d: host is %d bytes, want at most %d", lines+1, len(host), audit.MaxField)
		}
	}
	if lines != len(hosts) {
		t.Errorf("audit log has %d lines, want %d:\n%.500q", lines, len(hosts), b)
	}
}
