package agent

import (
	"fmt"
	"sync"
	"time"

	"github.com/keyfob/keyfob/daemon/policy"
	"github.com/keyfob/keyfob/daemon/vault"
)

// routeProblems lists the routes in force that cannot answer with the
// tokens in s, each "file:line: message". It says nothing while the agent
// is locked, when the tokens are unknown. It runs whenever status is
// asked, so a token added or removed is reflected at once.
func (a *Agent) routeProblems(s *vault.Snapshot) []string {
	if s.Locked() {
		return nil
	}
	var out []string
	for _, p := range policy.CheckTokens(a.currentRoutes(), s.Policy()) {
		out = append(out, p.Error())
	}
	return out
}

// pathHints remembers, per host, when the helper last said that git sent
// no path although the host has repository routes.
type pathHints struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// note returns the hint for host (reached over proto), or "" when it was given within the hour.
func (h *pathHints) note(proto, host string, now time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.last[host]; ok && now.Sub(t) < time.Hour {
		return ""
	}
	if h.last == nil {
		h.last = map[string]time.Time{}
	}
	h.last[host] = now
	return fmt.Sprintf("git sent no repository path for %s, so only host-level routes apply and routes for owners or repositories cannot match; "+
		"run: git config --global credential.%s://%s.useHttpPath true (keyfob setup git --host %s://%s does this)", host, proto, host, proto, host)
}

func appendNonEmpty(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}
