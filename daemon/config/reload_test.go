package config_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/config"
	"github.com/keyfob/keyfob/daemon/listen"
	"github.com/keyfob/keyfob/daemon/peercred"
	"github.com/keyfob/keyfob/daemon/server"
	"github.com/keyfob/keyfob/daemon/store"
)

// TestReloadInFlight reloads the config again and again while clients ask
// the real agent over its socket: no request fails, every answer comes from
// one of the two configs, and the unlocked tokens stay.
func TestReloadInFlight(t *testing.T) {
	dir := t.TempDir()
	alog, err := audit.Open(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close()
	a := agent.New(agent.Config{Backend: store.File, Dir: filepath.Join(dir, "keyring"),
		Passphrase: client.NewSecret("test passphrase"), Audit: alog})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	me := peercred.Cred{UID: os.Getuid(), PID: os.Getpid()}
	fps := map[string]string{}
	for _, name := range []string{"one", "two"} {
		resp := a.Handle(context.Background(), me, &client.Request{Op: client.OpAdd, Name: name,
			Meta: &client.TokenMeta{Hosts: []string{"github.com"}}, Secret: client.NewSecret("ghp_canaryRELOAD" + name + "000000000000")})
		if err := resp.Err(); err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
		fps[resp.Fingerprint] = name
	}

	path := filepath.Join(dir, "config.toml")
	route := func(tok string) string {
		return fmt.Sprintf("[[route]]\nmatch = \"github.com/acme/*\"\ntoken = %q\n", tok)
	}
	if err := os.WriteFile(path, []byte(route("one")), 0o600); err != nil {
		t.Fatal(err)
	}
	loads := make(chan error, 256)
	watching := make(chan struct{})
	w := &config.Watcher{Path: path, Set: a.SetRoutes, Debounce: 20 * time.Millisecond,
		Loaded: func(_ *config.Config, err error) { loads <- err }, Watching: func() { close(watching) }}
	if err := w.Load(); err != nil {
		t.Fatal(err)
	}
	<-loads

	sock := filepath.Join(dir, "s", "agent.sock")
	l, err := listen.Unix(sock, listen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &server.Server{Handler: a}
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); srv.Serve(ctx, l) }()
	go func() { defer bg.Done(); w.Run(ctx, nil) }()
	defer func() { cancel(); bg.Wait() }()
	<-watching

	const clients, each = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, clients*each)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				resp, err := client.Call(sock, &client.Request{Op: client.OpGet,
					Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git"}})
				switch {
				case err != nil:
					errs <- err
				case fps[resp.Fingerprint] == "":
					errs <- fmt.Errorf("answer from token %q (fp %s), want one or two", resp.Token, resp.Fingerprint)
				}
			}
		}()
	}
	// rewrite the config, alternating tokens and a broken file, waiting for
	// each reload, while the clients run
	reloads := 0
	for i := 0; i < 30; i++ {
		src := route([]string{"one", "two", "two"}[i%3])
		if i%3 == 2 {
			src = "[[route]\n" // broken: the previous config stays
		}
		// rename-over, as editors save: no moment with a half-written file
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		for err := range loads {
			if (err != nil) == (i%3 == 2) {
				break
			}
		}
		reloads++
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("request during reload: %v", err)
	}
	st := a.Handle(context.Background(), me, &client.Request{Op: client.OpStatus}).Status
	if st.Locked || st.Tokens != 2 {
		t.Errorf("after %d reloads: locked=%v tokens=%d, want unlocked with 2 tokens", reloads, st.Locked, st.Tokens)
	}
}
