package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyfob/keyfob/daemon/policy"
)

// applied is one call of Watcher.Set.
type applied struct {
	routes []policy.Route
	err    string
}

// startWatcher runs a watcher on path and returns the channel of its Set
// calls and the channel that triggers a reload (SIGHUP in the agent).
func startWatcher(t *testing.T, path string) (<-chan applied, chan<- os.Signal) {
	t.Helper()
	return startWatcherWith(t, path, func(*Watcher) {})
}

// startWatcherWith is startWatcher with the watcher adjusted by set first.
func startWatcherWith(t *testing.T, path string, set func(*Watcher)) (<-chan applied, chan<- os.Signal) {
	t.Helper()
	sets := make(chan applied, 64)
	watching := make(chan struct{})
	w := &Watcher{Path: path, Debounce: 20 * time.Millisecond, Set: func(r *policy.Table, err string) {
		sets <- applied{r.Routes(), err}
	}, Watching: func() { close(watching) }}
	set(w)
	_ = w.Load()
	<-sets
	reload := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, reload) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-watching:
	case err := <-done:
		done <- err
		t.Fatalf("Run ended before watching: %v", err)
	}
	return sets, reload
}

// await reads Set calls until one satisfies ok. The deadline only turns a
// hang into a failure.
func await(t *testing.T, sets <-chan applied, what string, ok func(applied) bool) applied {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case a := <-sets:
			if ok(a) {
				return a
			}
		case <-deadline:
			t.Fatalf("no reload with %s", what)
		}
	}
}

func routeTo(token string) string {
	return "[[route]]\nmatch = \"github.com/acme/*\"\ntoken = \"" + token + "\"\n"
}

func tokenIs(token string) func(applied) bool {
	return func(a applied) bool { return a.err == "" && len(a.routes) == 1 && a.routes[0].Token == token }
}

// waitForWatch writes the first config and waits for the watcher to load it.
func waitForWatch(t *testing.T, path string, sets <-chan applied) {
	t.Helper()
	write(t, path, routeTo("start"))
	await(t, sets, "the first write", tokenIs("start"))
}

func write(t *testing.T, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replace puts src at path whole: written beside it, then renamed over it.
func replace(t *testing.T, path, src string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".config.toml.new")
	write(t, tmp, src)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatchReloads(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, path string)
		want   func(applied) bool
	}{
		{"in-place write", func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(routeTo("in-place"))
			f.Close()
		}, tokenIs("in-place")},
		{"atomic rename-over", func(t *testing.T, path string) {
			tmp := filepath.Join(filepath.Dir(path), ".config.toml.swp")
			write(t, tmp, routeTo("renamed"))
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, tokenIs("renamed")},
		{"delete is an empty config", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, func(a applied) bool { return a.err == "" && len(a.routes) == 0 }},
		// These two replace the file whole: a truncating write could be
		// read empty in between, a valid config that would then be kept.
		{"broken file keeps the old routes", func(t *testing.T, path string) {
			replace(t, path, "[[route]]\nmatch = \"github.com/acme/*\"\ntoken = oops\n")
		}, func(a applied) bool {
			return strings.Contains(a.err, "config.toml:3: syntax") && len(a.routes) == 1 && a.routes[0].Token == "start"
		}},
		{"a file others can write keeps the old routes", func(t *testing.T, path string) {
			// another uid that can write the file sends a token elsewhere
			if err := os.Chmod(path, 0o666); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(routeTo("attacker"))
			f.Close()
		}, func(a applied) bool {
			return strings.Contains(a.err, "can be written by group or others (mode 0666)") && len(a.routes) == 1 && a.routes[0].Token == "start"
		}},
		{"a tie keeps the old routes", func(t *testing.T, path string) {
			replace(t, path, routeTo("x")+"[[route]]\nmatch = \"github.com/*/app\"\ntoken = \"y\"\n")
		}, func(a applied) bool {
			return strings.Contains(a.err, "config.toml:4: route github.com/*/app (token y) ties with") && len(a.routes) == 1 && a.routes[0].Token == "start"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keyfob", "config.toml")
			sets, _ := startWatcher(t, path)
			waitForWatch(t, path, sets)
			tt.change(t, path)
			await(t, sets, tt.name, tt.want)
		})
	}
}

func TestWatchDeleteAndRecreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	sets, _ := startWatcher(t, path)
	waitForWatch(t, path, sets)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	await(t, sets, "no routes after delete", func(a applied) bool { return a.err == "" && len(a.routes) == 0 })
	write(t, path, routeTo("recreated"))
	await(t, sets, "the recreated file", tokenIs("recreated"))
}

func TestWatchIgnoresOtherFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	// Every event the watcher counts, in order. A neighbour's event comes
	// before the config's own, so a watcher that counted it is caught
	// here, whatever the debounce merges.
	noticed := make(chan string, 64)
	sets, reload := startWatcherWith(t, path, func(w *Watcher) { w.Noticed = func(n string) { noticed <- n } })
	waitForWatch(t, path, sets)
	drain := func() {
		for {
			select {
			case <-noticed:
			default:
				return
			}
		}
	}
	drain()
	write(t, filepath.Join(dir, "other.toml"), "this is not toml")
	write(t, path, routeTo("second"))
	await(t, sets, "the second write", tokenIs("second"))
	for {
		n := <-noticed
		if filepath.Base(n) != "config.toml" {
			t.Fatalf("the watcher counted %s as a change of the config", n)
		}
		if len(noticed) == 0 {
			break
		}
	}
	// the reload that follows sees the config as written
	reload <- os.Interrupt
	a := await(t, sets, "a reload", func(applied) bool { return true })
	if !tokenIs("second")(a) {
		t.Errorf("after writing another file, Set(%v, %q), want the second route", a.routes, a.err)
	}
}

func TestReloadSignal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	sets, reload := startWatcher(t, path)
	waitForWatch(t, path, sets)
	reload <- os.Interrupt
	await(t, sets, "the reload", tokenIs("start"))
}
