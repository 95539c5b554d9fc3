package main

import (
	"os"
	"syscall"

	"github.com/keyfob/keyfob/daemon/store"
	"github.com/keyfob/keyfob/daemon/vault"
)

// faultEnv names, for keyfob serve run by a test script, a point where the
// agent kills itself (SIGKILL) during a keychain write:
// "before-rename:keyfob.token.NAME" (the write has not reached the
// keychain) or "after-rename:keyfob.token.NAME" (it has, and nothing after
// it ran). Only this test binary reads it; the store's own test kills a
// process between staging and rename.
const faultEnv = "KEYFOB_FAULT"

// crashingKeychain returns a wrapper that dies at point.
func crashingKeychain(point string) func(vault.Keychain) vault.Keychain {
	return func(kc vault.Keychain) vault.Keychain { return crashing{Keychain: kc, point: point} }
}

type crashing struct {
	vault.Keychain
	point string
}

func (c crashing) at(point string) {
	if point == c.point {
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
