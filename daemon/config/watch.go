package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/policy"
)

// DefaultDebounce is how long the watcher waits after the last change to the
// file before it reads it: an editor's save is several events.
const DefaultDebounce = 150 * time.Millisecond

// Watcher loads the config file and reloads it when it changes on disk or
// when asked (SIGHUP). A file that does not load is refused: Set gets the
// previous routes again, with the error, so it shows in status.
type Watcher struct {
	// Path is the config file.
	Path string
	// Set installs the routes, compiled, never nil; loadErr is "" or why
	// the file on disk was refused. agent.Agent's SetRoutes fits.
	Set func(routes *policy.Table, loadErr string)
	// SetGitHub, when set, installs the [[github]] hosts of every config
	// that loads; a refused file leaves the hosts in force.
	// agent.Agent's SetGitHubHosts fits.
	SetGitHub func(hosts []github.Host)
	// Log receives a line per reload; nil means none.
	Log *zap.Logger
	// Debounce defaults to DefaultDebounce.
	Debounce time.Duration
	// Loaded, when set, is called after every load attempt, with the
	// config (nil when refused) and the error.
	Loaded func(c *Config, err error)
	// Watching, when set, is called once the watch is in place (tests).
	Watching func()
	// Noticed, when set, is called with the path of each file event that
	// counts as a change of the config, in the order they arrive (tests).
	Noticed func(name string)

	mu      sync.Mutex
	current *Config
}

// Current returns the config in force, nil before the first good load.
func (w *Watcher) Current() *Config {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current
}

// Load reads the file now and installs it, or keeps the config in force and
// reports why the file was refused.
func (w *Watcher) Load() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	log := w.Log
	if log == nil {
		log = zap.NewNop()
	}
	c, err := Load(w.Path)
	if err != nil {
		keep := policy.Compile(nil)
		if w.current != nil {
			keep = w.current.Table
		}
		w.Set(keep, err.Error())
		log.Error("config refused; the previous config stays in force", zap.String("path", w.Path), zap.Error(err))
	} else {
		w.current = c
		if w.SetGitHub != nil {
			w.SetGitHub(c.GitHub)
		}
		w.Set(c.Table, "")
		log.Info("config loaded", zap.String("path", w.Path), zap.Bool("exists", c.Exists), zap.Int("routes", c.Table.Len()))
	}
	if w.Loaded != nil {
		w.Loaded(c, err)
	}
	return err
}

// Run watches the file's directory until ctx ends, reloading after changes
// to the file (debounced) and whenever reload receives. It watches the
// directory, not the file, so that an editor's rename-over, a delete and
// recreate, and an in-place write are all seen. It does not load the file
// first; call Load for that.
func (w *Watcher) Run(ctx context.Context, reload <-chan os.Signal) error {
	dir, base := filepath.Dir(w.Path), filepath.Base(w.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("watch config: %w", err)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch config: %w", err)
	}
	defer fw.Close()
	if err := fw.Add(dir); err != nil {
		return fmt.Errorf("watch config directory %s: %w", dir, err)
	}
	if w.Watching != nil {
		w.Watching()
	}
	d := w.Debounce
	if d <= 0 {
		d = DefaultDebounce
	}
	timer := time.NewTimer(d)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if filepath.Base(ev.Name) != base || ev.Op == fsnotify.Chmod {
				continue
			}
			if w.Noticed != nil {
				w.Noticed(ev.Name)
			}
			timer.Reset(d)
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			if w.Log != nil {
				w.Log.Warn("config watcher", zap.Error(err))
			}
		case <-timer.C:
			_ = w.Load()
		case <-reload:
			_ = w.Load()
		}
	}
}
