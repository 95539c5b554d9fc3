// Package busenv stops the keyring library from starting a D-Bus daemon.
// keyring connects to the session bus in its init; with no
// DBUS_SESSION_BUS_ADDRESS, the old godbus it uses runs dbus-launch, which
// leaves a dbus-daemon behind on every start. Importing this package first
// marks the bus as disabled when the session has none, so Secret Service is
// simply unavailable. Go initialises packages in import-path order among
// those whose imports are ready; this package imports only os, so it runs
// before keyring and godbus (which need net and os/exec).
package busenv

import "os"

// Disabled is the address set when the session has no bus.
const Disabled = "disabled:"

func init() {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		_ = os.Setenv("DBUS_SESSION_BUS_ADDRESS", Disabled)
	}
}
