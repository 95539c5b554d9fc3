package doctor

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/setup"
)

// credentialHosts are the hosts doctor checks git's settings for: those of
// the tokens and routes, else github.com.
func credentialHosts(toks []policy.Token, routes *policy.Table) []string {
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
	for _, h := range routes.Hosts() {
		add(h)
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
	return v == "keyfob" || strings.Contains(v, setup.HelperName)
}

func isStore(v string) bool {
	f := strings.Fields(v)
	return len(f) > 0 && (f[0] == "store" || strings.HasSuffix(f[0], "git-credential-store"))
}

// chain returns the helpers git runs for base, in order: an empty helper
// resets the list.
func chain(entries []helperEntry, base string) []helperEntry {
	var c []helperEntry
	for _, en := range entries {
		if !contextMatches(en.context, base) {
			continue
		}
		if en.value == "" {
			c = nil
			continue
		}
		c = append(c, en)
	}
	return c
}

func (r *report) git(toks []policy.Token, routes *policy.Table) {
	entries, err := gitHelpers()
	if err != nil {
		r.problem(CheckGit, err.Error(), "install git")
		return
	}
	for _, h := range credentialHosts(toks, routes) {
		scheme := "https"
		if policy.IsLoopback(h) {
			scheme = "http"
		}
		base := scheme + "://" + h
		helpers := chain(entries, base)
		fix := "keyfob setup git --host " + base
		k := slices.IndexFunc(helpers, func(en helperEntry) bool { return isKeyfob(en.value) })
		switch {
		case k < 0:
			r.problem(CheckGit, fmt.Sprintf("git does not ask keyfob for %s", base), fix)
		case k > 0:
			r.problem(CheckGit, fmt.Sprintf("helper %q (%s) answers before keyfob for %s", helpers[0].value, helpers[0].origin, base), fix)
		default:
			r.ok(CheckGit, "git asks keyfob first for %s", base)
		}
		for _, en := range helpers {
			if isStore(en.value) {
				r.problem(CheckGit, fmt.Sprintf("the plaintext store helper (%s) also receives the token for %s and writes it to ~/.git-credentials", en.origin, base),
					fix+", make sure no helper = store follows its section in "+en.origin+", and delete keyfob's tokens from ~/.git-credentials")
			}
		}
		r.httpPath(base, h, routes)
	}
}

// httpPath checks credential.useHttpPath for a host that has repository
// routes: without it git sends no path, and only host-level routes match.
func (r *report) httpPath(base, host string, routes *policy.Table) {
	var pathRoutes []string
	for _, rt := range routes.PathRoutes(host) {
		pathRoutes = append(pathRoutes, rt.Match)
	}
	if len(pathRoutes) == 0 {
		return
	}
	v, err := setup.GitConfig("--type=bool", "--get-urlmatch", "credential.useHttpPath", base)
	if err != nil {
		r.problem(CheckGit, err.Error(), "")
		return
	}
	if strings.TrimSpace(v) == "true" {
		r.ok(CheckGit, "useHttpPath is on for %s, so repository routes can match", base)
		return
	}
	r.problem(CheckGit, fmt.Sprintf("useHttpPath is off for %s, which has repository routes (%s): git sends no path, so only host-level routes can match",
		base, strings.Join(pathRoutes, ", ")), "keyfob setup git --host "+base)
}
