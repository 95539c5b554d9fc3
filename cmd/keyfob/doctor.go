package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/config"
	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/setup"
)

// doctor collects findings: "ok" lines and problems, each with its fix.
type doctor struct {
	w        io.Writer
	problems int
}

func (d *doctor) ok(format string, args ...any) {
	fmt.Fprintf(d.w, "ok       %s\n", fmt.Sprintf(format, args...))
}

func (d *doctor) problem(msg, fix string) {
	d.problems++
	fmt.Fprintf(d.w, "problem  %s\n", msg)
	if fix != "" {
		fmt.Fprintf(d.w, "  fix:   %s\n", fix)
	}
}

func cmdDoctor(e *env, args []string) error {
	if _, err := parseFlags(newFlags("doctor", e), args); err != nil {
		return err
	}
	d := &doctor{w: e.stdout}
	d.socketDir(client.SocketPath())
	toks := d.agent()
	routes := d.config(toks)
	d.git(toks, routes)
	d.units()
	if d.problems > 0 {
		return fmt.Errorf("doctor found %d problem(s)", d.problems)
	}
	fmt.Fprintln(e.stdout, "no problems found")
	return nil
}

func (d *doctor) socketDir(sock string) {
	dir := filepath.Dir(sock)
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return // the agent check says it is not running
	case err != nil:
		d.problem(fmt.Sprintf("socket directory %s: %v", dir, err), "")
		return
	}
	if !fi.IsDir() {
		d.problem(fmt.Sprintf("socket directory %s is not a directory (a symlink?)", dir),
			"remove it and start the agent again; it creates the directory itself")
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		d.problem(fmt.Sprintf("socket directory %s belongs to uid %d, not to you (uid %d)", dir, st.Uid, os.Getuid()),
			"remove it and start the agent again; it creates the directory itself")
		return
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		d.problem(fmt.Sprintf("socket directory %s is mode %04o: group or others can reach the agent's socket", dir, perm),
			"chmod 700 "+dir)
		return
	}
	d.ok("socket directory %s is private (0700, yours)", dir)
}

// agent checks the agent and its keychain, and returns the tokens when it
// is unlocked.
func (d *doctor) agent() []policy.Token {
	path := client.SocketPath()
	resp, err := client.Call(path, &client.Request{Op: client.OpStatus})
	var ue *client.UntrustedError
	if errors.As(err, &ue) {
		d.problem(ue.Problem, ue.Fix)
		return nil
	}
	if err != nil || resp.Status == nil {
		d.problem(fmt.Sprintf("agent not running at %s", path),
			"start it: keyfob serve, or systemctl --user enable --now keyfob.socket")
		return nil
	}
	s := resp.Status
	switch {
	case s.Locked && (s.NeedsPass || strings.Contains(s.LockError, "keyfob lock") || strings.Contains(s.LockError, "waiting")):
		d.problem(fmt.Sprintf("agent (pid %d) is locked: %s", s.PID, s.LockError), "keyfob unlock")
		return nil
	case s.Locked:
		d.problem(fmt.Sprintf("keychain backend %s is not reachable: %s", s.Backend, s.LockError),
			"check KEYFOB_BACKEND (secret-service needs a session bus and an unlocked login keyring), then keyfob unlock")
		return nil
	}
	d.ok("agent pid %d answers at %s: %s backend, unlocked, %d tokens", s.PID, path, s.Backend, s.Tokens)
	if s.ConfigErr != "" {
		d.problem("the agent refused the config file and keeps its previous config: "+s.ConfigErr,
			"fix the file; the agent reloads it on save")
	}
	l, err := client.Call(path, &client.Request{Op: client.OpList})
	if err != nil {
		return nil
	}
	toks := make([]policy.Token, 0, len(l.Tokens))
	for _, t := range l.Tokens {
		toks = append(toks, policy.Token{Name: t.Name, Hosts: t.Hosts, Username: t.Username})
	}
	if len(toks) == 0 {
		d.problem("the agent holds no tokens", "keyfob add NAME --host github.com")
	}
	return toks
}

// config checks the config file, and the routes against the tokens when
// they are known.
func (d *doctor) config(toks []policy.Token) []policy.Route {
	path := client.ConfigPath()
	c, err := config.Load(path)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				d.problem("config "+p.Error(), "edit "+path)
			}
		} else {
			d.problem(err.Error(), "")
		}
		return nil
	}
	if !c.Exists {
		d.ok("no config file at %s: no routes, each host's token answers", path)
		return nil
	}
	d.ok("config %s loads: %d routes", path, len(c.Routes))
	if toks != nil {
		var ce *config.Error
		if errors.As(c.Check(toks), &ce) {
			for _, p := range ce.Problems {
				d.problem("config "+p.Error(), "add the token (keyfob add NAME --host H), or fix the route in "+path)
			}
		}
	}
	return c.Routes
}

// credentialHosts are the hosts doctor checks git's settings for: those of
// the tokens and routes, else github.com.
func credentialHosts(toks []policy.Token, routes []policy.Route) []string {
	var hosts []string
	add := func(h string) {
		h = strings.ToLower(h)
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	for _, t := range toks {
		for _, h := range t.Hosts {
			add(h)
		}
	}
	for _, r := range routes {
		if p, err := policy.ParsePattern(r.Match); err == nil {
			add(p.Host())
		}
	}
	if len(hosts) == 0 {
		add("github.com")
	}
	return hosts
}

// helperEntry is one credential.*helper setting, in git's reading order.
type helperEntry struct {
	origin, context, value string
}

// gitHelpers lists every credential helper setting git reads, in order.
func gitHelpers() ([]helperEntry, error) {
	out, err := setup.GitConfig("--null", "--show-origin", "--get-regexp", `^credential\..*helper$`)
	if err != nil {
		return nil, err
	}
	fields := strings.Split(out, "\x00")
	var list []helperEntry
	for i := 0; i+1 < len(fields); i += 2 {
		origin := strings.TrimPrefix(fields[i], "file:")
		key, value, _ := strings.Cut(fields[i+1], "\n")
		ctx := strings.TrimSuffix(strings.TrimPrefix(key, "credential."), "helper")
		list = append(list, helperEntry{origin: origin, context: strings.TrimSuffix(ctx, "."), value: value})
	}
	return list, nil
}

// contextMatches reports whether a credential.<context> applies to every
// repository under base (scheme://host[:port]).
func contextMatches(ctx, base string) bool {
	if ctx == "" {
		return true
	}
	u, err := url.Parse(ctx)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Scheme+"://"+u.Host, base) && strings.Trim(u.Path, "/") == ""
}

func isKeyfob(v string) bool {
	return v == "keyfob" || strings.Contains(v, "git-credential-keyfob")
}

func isStore(v string) bool {
	f := strings.Fields(v)
	return len(f) > 0 && (f[0] == "store" || strings.HasSuffix(f[0], "git-credential-store"))
}

func (d *doctor) git(toks []policy.Token, routes []policy.Route) {
	entries, err := gitHelpers()
	if err != nil {
		d.problem(err.Error(), "install git")
		return
	}
	for _, h := range credentialHosts(toks, routes) {
		scheme := "https"
		if policy.IsLoopback(h) {
			scheme = "http"
		}
		base := scheme + "://" + h
		var chain []helperEntry
		for _, en := range entries {
			if !contextMatches(en.context, base) {
				continue
			}
			if en.value == "" {
				chain = nil // an empty helper resets the list
				continue
			}
			chain = append(chain, en)
		}
		fix := "keyfob setup git --host " + base
		k := slices.IndexFunc(chain, func(en helperEntry) bool { return isKeyfob(en.value) })
		switch {
		case k < 0:
			d.problem(fmt.Sprintf("git does not ask keyfob for %s", base), fix)
		case k > 0:
			d.problem(fmt.Sprintf("helper %q (%s) answers before keyfob for %s", chain[0].value, chain[0].origin, base), fix)
		default:
			d.ok("git asks keyfob first for %s", base)
		}
		for _, en := range chain {
			if isStore(en.value) {
				d.problem(fmt.Sprintf("the plaintext store helper (%s) also receives the token for %s and writes it to ~/.git-credentials", en.origin, base),
					fix+", make sure no helper = store follows its section in "+en.origin+", and delete keyfob's tokens from ~/.git-credentials")
			}
		}
		d.httpPath(base, h, routes)
	}
}

// httpPath checks credential.useHttpPath for a host that has repository
// routes: without it git sends no path, and only host-level routes match.
func (d *doctor) httpPath(base, host string, routes []policy.Route) {
	var pathRoutes []string
	for _, r := range routes {
		if p, err := policy.ParsePattern(r.Match); err == nil && p.HasPath() && strings.EqualFold(p.Host(), host) {
			pathRoutes = append(pathRoutes, r.Match)
		}
	}
	if len(pathRoutes) == 0 {
		return
	}
	v, err := setup.GitConfig("--type=bool", "--get-urlmatch", "credential.useHttpPath", base)
	if err != nil {
		d.problem(err.Error(), "")
		return
	}
	if strings.TrimSpace(v) == "true" {
		d.ok("useHttpPath is on for %s, so repository routes can match", base)
		return
	}
	d.problem(fmt.Sprintf("useHttpPath is off for %s, which has repository routes (%s): git sends no path, so only host-level routes can match",
		base, strings.Join(pathRoutes, ", ")), "keyfob setup git --host "+base)
}
