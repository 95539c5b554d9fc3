package listen

import (
	"fmt"
	"net"

	"github.com/coreos/go-systemd/v22/activation"
)

// Activated returns the socket systemd handed over under name (the unit's
// FileDescriptorName), or the only one when name is "" or no fd carries it.
// It returns nil, nil when the process was not socket-activated.
func Activated(name string) (*net.UnixListener, error) {
	byName, err := activation.ListenersWithNames()
	if err != nil {
		return nil, fmt.Errorf("socket activation: %w", err)
	}
	var all []net.Listener
	for n, ls := range byName {
		for _, l := range ls {
			if l == nil {
				continue
			}
			if n == name {
				return asUnix(l)
			}
			all = append(all, l)
		}
	}
	switch len(all) {
	case 0:
		return nil, nil
	case 1:
		return asUnix(all[0])
	default:
		return nil, fmt.Errorf("socket activation: %d sockets and none named %q: set FileDescriptorName=%s", len(all), name, name)
	}
}

func asUnix(l net.Listener) (*net.UnixListener, error) {
	ul, ok := l.(*net.UnixListener)
	if !ok {
		return nil, fmt.Errorf("socket activation: got a %s listener, want a Unix stream socket", l.Addr().Network())
	}
	ul.SetUnlinkOnClose(false)
	return ul, nil
}
