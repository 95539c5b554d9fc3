// Package contrib holds the files that start keyfob with the user's session:
// systemd user units, an XDG autostart entry and a launchd agent. The
// systemd units are embedded so that keyfob setup systemd writes exactly what
// make install installs.
package contrib

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
)

//go:embed systemd/keyfob.socket systemd/keyfob.service
var files embed.FS

// DefaultExe is the keyfob path the files name as shipped; installers
// replace it with where keyfob really is.
const DefaultExe = "/usr/local/bin/keyfob"

// Units are the systemd user units, in the order to install them.
var Units = []string{"keyfob.socket", "keyfob.service"}

// Unit returns the systemd user unit name (one of Units) with its ExecStart
// naming exe.
func Unit(name, exe string) ([]byte, error) {
	b, err := files.ReadFile("systemd/" + name)
	if err != nil {
		return nil, fmt.Errorf("unit %s: %w", name, err)
	}
	if !strings.HasPrefix(exe, "/") {
		return nil, fmt.Errorf("unit %s: keyfob path %q is not absolute", name, exe)
	}
	old := []byte("ExecStart=" + DefaultExe + " ")
	return bytes.ReplaceAll(b, old, []byte("ExecStart="+quoteExec(exe)+" ")), nil
}

// quoteExec quotes a path for an Exec*= line of a unit file: specifiers
// (%) and variables ($) are escaped, and a path with spaces or quotes is
// put in double quotes.
func quoteExec(p string) string {
	p = strings.NewReplacer("%", "%%", "$", "$$").Replace(p)
	if !strings.ContainsAny(p, " \t\"'\\") {
		return p
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(p) + `"`
}
