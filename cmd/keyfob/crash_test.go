package main

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// faultEnv names, for keyfob serve run by a test script, a point where the
// agent kills itself (SIGKILL) during a keychain write:
// "before-rename:keyfob.token.NAME" (the write has not reached the
// keychain) or "after-rename:keyfob.token.NAME" (it has, and nothing after
// it ran). A point that ends in "~N" is the N-th write of that item
// (login-crash.txtar kills the agent at the refresh after a login). Only
// this test binary reads it; the store's own test kills a process between
// staging and rename.
const faultEnv = "KEYFOB_FAULT"

// crashingKeychain returns a wrapper that dies at point.
func crashingKeychain(point string) func(vault.Keychain) vault.Keychain {
	point, nth, _ := strings.Cut(point, "~")
	n, err := strconv.Atoi(nth)
	if err != nil || n < 1 {
		n = 1
	}
	seen := new(atomic.Int32)
	return func(kc vault.Keychain) vault.Keychain {
		return crashing{Keychain: kc, point: point, nth: int32(n), seen: seen}
	}
}

type crashing struct {
	vault.Keychain
	point string
	nth   int32
	seen  *atomic.Int32
}

func (c crashing) at(point string) {
	if point == c.point && c.seen.Add(1) == c.nth {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

func (c crashing) Put(t store.Token) error {
	c.at("before-rename:keyfob.token." + t.Name)
	err := c.Keychain.Put(t)
	c.at("after-rename:keyfob.token." + t.Name)
	return err
}

func (c crashing) PutApp(ap store.App) error {
	c.at("before-rename:keyfob.app." + ap.Name)
	err := c.Keychain.PutApp(ap)
	c.at("after-rename:keyfob.app." + ap.Name)
	return err
}
