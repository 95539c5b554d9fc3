package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"runtime"

	"go.uber.org/zap/zapcore"

	"github.com/keyfob/keyfob/client/cliflag"
	"github.com/keyfob/keyfob/daemon"
	"github.com/keyfob/keyfob/daemon/desktop"
	"github.com/keyfob/keyfob/daemon/passphrase"
	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// autoLockEnv sets serve's --auto-lock default.
const autoLockEnv = "KEYFOB_AUTO_LOCK"

func cmdServe(e *env, args []string) error {
	fs := newFlags("serve", e)
	backend := fs.String("backend", os.Getenv("KEYFOB_BACKEND"), "keychain backend: "+fmt.Sprint(store.Backends))
	level := fs.String("log-level", cmp.Or(os.Getenv("KEYFOB_LOG_LEVEL"), "info"), "debug, info, warn or error")
	autoLockDef, err := cliflag.EnvDuration(autoLockEnv)
	if err != nil {
		return usageError{err.Error() + ", or 0 for never"}
	}
	autoLock := fs.Duration("auto-lock", autoLockDef, "lock after this long without a token used (15m); 0 never ($"+autoLockEnv+")")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	// First of all, before any descriptor is opened or an activated
	// socket taken: this may re-execute the process.
	pass, err := passphrase.Start()
	if err != nil {
		return err
	}
	defer pass.Wipe()
	if os.Getenv("GOMAXPROCS") == "" {
		// The agent's work per request is microseconds, most of it
		// system calls; handing goroutines between threads costs more
		// than that (docs/benchmarks.md). One thread runs Go code at a
		// time, as ssh-agent runs, and blocking calls still get threads
		// of their own. GOMAXPROCS set in the environment wins.
		runtime.GOMAXPROCS(1)
	}
	if *backend == "" {
		*backend = store.DefaultBackend()
	}
	var lvl zapcore.Level
	if err := lvl.Set(*level); err != nil {
		return usageError{"--log-level: " + err.Error()}
	}
	err = daemon.Serve(e.stderr, lvl, daemon.Options{
		Backend:    *backend,
		Passphrase: pass,
		PassDir:    os.Getenv("PASSWORD_STORE_DIR"),
		AutoLock:   *autoLock,
		GitHubAPI:  os.Getenv("KEYFOB_GITHUB_API"),
		GitHubURL:  os.Getenv("KEYFOB_GITHUB_URL"),
		Notify:     desktop.Notify,

		WrapKeychain: wrapKeychain,
	})
	if errors.Is(err, daemon.ErrRunning) {
		return hinted{err, "keyfob status talks to it; stop it first to start another"}
	}
	return err
}

// wrapKeychain, when set, wraps the keychain the agent opens. Only tests
// set it (script_test.go: a keychain that kills the agent mid-write).
var wrapKeychain func(vault.Keychain) vault.Keychain
