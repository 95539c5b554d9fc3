package doctor

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// units checks the systemd user units in dir, when installed: both must be
// there, and ExecStart must name an executable keyfob.
func (r *report) units(dir string) {
	svc := filepath.Join(dir, "keyfob.service")
	sock := filepath.Join(dir, "keyfob.socket")
	_, svcErr := os.Stat(svc)
	_, sockErr := os.Stat(sock)
	switch {
	case os.IsNotExist(svcErr) && os.IsNotExist(sockErr):
		r.ok(CheckUnits, "no systemd user units in %s (the git helper starts the agent when needed; keyfob setup systemd installs them)", dir)
		return
	case svcErr != nil || sockErr != nil:
		r.problem(CheckUnits, fmt.Sprintf("only one of keyfob.service and keyfob.socket is in %s", dir), "keyfob setup systemd")
		return
	}
	exe, err := execStart(svc)
	if err != nil {
		r.problem(CheckUnits, fmt.Sprintf("%s: %v", svc, err), "keyfob setup systemd")
		return
	}
	if fi, err := os.Stat(exe); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		r.problem(CheckUnits, fmt.Sprintf("%s starts %s, which is not an executable file", svc, exe), "keyfob setup systemd (or --exe with the installed keyfob)")
		return
	}
	r.ok(CheckUnits, "systemd user units in %s start %s", dir, exe)
}

// execStart returns the program of a unit's ExecStart= line, without
// systemd's prefix characters.
func execStart(unit string) (string, error) {
	f, err := os.Open(unit)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "ExecStart=")
		if !ok {
			continue
		}
		fields := strings.Fields(strings.TrimLeft(v, "@-:+!"))
		if len(fields) == 0 {
			break
		}
		return fields[0], nil
	}
	return "", errors.New("no ExecStart= line")
}
