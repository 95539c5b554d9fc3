// Package notify connects the agent to the service manager that runs it:
// readiness, status, stopping and watchdog pings over sd_notify, and logs
// with structured fields to the journal when stderr is the journal. Outside
// systemd (no NOTIFY_SOCKET, no JOURNAL_STREAM) it does nothing.
package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Ready tells the service manager that the agent serves, with its first
// status line ("unlocked, 3 tokens").
func Ready(status string) error {
	return send(daemon.SdNotifyReady + "\nSTATUS=" + oneLine(status))
}

// Status replaces the status line systemctl status shows.
func Status(status string) error { return send("STATUS=" + oneLine(status)) }

// Stopping tells the service manager that the agent is shutting down.
func Stopping() error { return send(daemon.SdNotifyStopping + "\nSTATUS=stopping") }

// WatchdogInterval is how often the service manager wants a ping: half of
// WATCHDOG_USEC, or 0 when it set no watchdog for this process.
func WatchdogInterval() (time.Duration, error) {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("watchdog: %w", err)
	}
	return d / 2, nil
}

// Watchdog pings the service manager every interval until ctx ends. Before
// each ping it calls healthy, which blocks or returns false when the agent
// is stuck; then no ping goes out and the manager restarts the agent.
func Watchdog(ctx context.Context, interval time.Duration, healthy func() bool) error {
	if interval <= 0 {
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !healthy() {
			continue
		}
		if err := send(daemon.SdNotifyWatchdog); err != nil {
			return err
		}
	}
}

func send(state string) error {
	if _, err := daemon.SdNotify(false, state); err != nil {
		return fmt.Errorf("sd_notify %s: %w", strings.SplitN(state, "\n", 2)[0], err)
	}
	return nil
}

// oneLine keeps a status to one line: sd_notify separates fields by
// newlines.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
