package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/godbus/dbus"
)

// The Secret Service names keyfob uses: the service, and the collection
// keyring opens (LibSecretCollectionName "login").
const (
	ssDest       = "org.freedesktop.secrets"
	ssPath       = dbus.ObjectPath("/org/freedesktop/secrets")
	ssCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
)

// busTimeout bounds each D-Bus call keyfob makes itself.
const busTimeout = 5 * time.Second

// collectionLocked reads the login collection's Locked property. A
// collection that does not exist is not locked: keyring then reads it as
// empty, which it is.
func collectionLocked() (bool, error) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return false, fmt.Errorf("connect to the session bus: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	defer cancel()
	var v dbus.Variant
	err = conn.Object(ssDest, ssCollection).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
		"org.freedesktop.Secret.Collection", "Locked").Store(&v)
	var de dbus.Error
	switch {
	case errors.As(err, &de) && (de.Name == "org.freedesktop.Secret.Error.NoSuchObject" || de.Name == "org.freedesktop.DBus.Error.UnknownObject" ||
		de.Name == "org.freedesktop.DBus.Error.UnknownMethod"):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("ask Secret Service whether the login keyring is locked: %w", err)
	}
	locked, ok := v.Value().(bool)
	if !ok {
		return false, fmt.Errorf("ask Secret Service whether the login keyring is locked: Locked is %s, not a boolean", v.Signature())
	}
	return locked, nil
}

// requestUnlock asks Secret Service to unlock the login collection. When
// that needs the user, the service answers with a prompt, which is shown
// (the desktop's unlock dialog) and not waited for: the user may answer
// in a minute or never, and the agent notices an unlock by polling
// KeychainLocked. Without a prompter (a test, a headless session) the
// prompt is dismissed at once and the collection stays locked.
func requestUnlock() error {
	conn, err := dbus.SessionBus()
	if err != nil {
		return fmt.Errorf("connect to the session bus: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	defer cancel()
	var unlocked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = conn.Object(ssDest, ssPath).CallWithContext(ctx, "org.freedesktop.Secret.Service.Unlock", 0,
		[]dbus.ObjectPath{ssCollection}).Store(&unlocked, &prompt)
	if err != nil {
		return fmt.Errorf("ask Secret Service to unlock the login keyring: %w", err)
	}
	if prompt != "/" && prompt != "" {
		// Fire and forget: no reply is awaited, and the Completed signal
		// is not listened for.
		conn.Object(ssDest, prompt).Go("org.freedesktop.Secret.Prompt.Prompt", dbus.FlagNoReplyExpected, nil, "")
	}
	return nil
}
