package desktop

import (
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus"

	"github.com/keyfob/keyfob/daemon/internal/bustest"
)

// notifications is a small org.freedesktop.Notifications service.
type notifications struct{ got chan []string }

func (n *notifications) Notify(app string, id uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n.got <- []string{app, summary, body}
	return 1, nil
}

// TestNotify runs a notification service on a private session bus and
// checks what keyfob sends it.
func TestNotify(t *testing.T) {
	if !bustest.InBus() {
		bustest.Run(t, "TestNotify")
		return
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	n := &notifications{got: make(chan []string, 1)}
	if err := conn.Export(n, path, service); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(service, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName = %v, %v", reply, err)
	}
	if err := Notify("keyfob: a token needs attention", "token acme is expiring: run keyfob rotate acme"); err != nil {
		t.Fatalf("Notify = %v", err)
	}
	select {
	case got := <-n.got:
		if got[0] != "keyfob" || !strings.Contains(got[1], "needs attention") || got[2] != "token acme is expiring: run keyfob rotate acme" {
			t.Fatalf("notification = %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification arrived")
	}
}

func TestNoBus(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:")
	if err := Notify("s", "b"); err == nil {
		t.Fatal("Notify with no bus succeeded")
	}
}
