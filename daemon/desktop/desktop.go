// Package desktop shows desktop notifications through the session bus's
// org.freedesktop.Notifications service, when the session has one.
package desktop

import (
	"fmt"
	"os"

	"github.com/godbus/dbus"
)

const (
	service = "org.freedesktop.Notifications"
	path    = "/org/freedesktop/Notifications"
)

// Available reports whether a session bus address is set and not disabled.
func Available() bool {
	a := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	return a != "" && a != "disabled:"
}

// Notify shows summary and body. It fails when no session bus or no
// notification service answers; callers treat that as "nowhere to show".
func Notify(summary, body string) error {
	if !Available() {
		return fmt.Errorf("desktop notification: no session bus")
	}
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return fmt.Errorf("desktop notification: %w", err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return fmt.Errorf("desktop notification: %w", err)
	}
	if err := conn.Hello(); err != nil {
		return fmt.Errorf("desktop notification: %w", err)
	}
	call := conn.Object(service, path).Call(service+".Notify", 0,
		"keyfob", uint32(0), "dialog-password", summary, body, []string{}, map[string]dbus.Variant{}, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("desktop notification: %w", call.Err)
	}
	return nil
}
