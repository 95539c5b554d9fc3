package main

import (
	"fmt"
	"io"
	"time"
)

// targets writes the table of targets, each with what this run measured
// and whether it was met. Nothing here fails a build: they are reported.
func (r *report) targets(w io.Writer) {
	fmt.Fprintf(w, "### Targets\n\n| target | measured | |\n|---|---:|---|\n")
	row := func(name, measured string, ok, have bool) {
		switch {
		case !have:
			fmt.Fprintf(w, "| %s | not measured | |\n", name)
		case ok:
			fmt.Fprintf(w, "| %s | %s | met |\n", name, measured)
		default:
			fmt.Fprintf(w, "| %s | %s | not met |\n", name, measured)
		}
	}
	ratio := func(name string, a, b *proc, atMost float64) {
		if a == nil || b == nil {
			row(name, "", false, false)
			return
		}
		v := summarize(a.wall).med / summarize(b.wall).med
		row(name, fmt.Sprintf("%.2f×", v), v <= atMost, true)
	}
	k := r.find("get", "git-credential-keyfob")
	ratio("helper get ≤ 1.08× the Go floor (alternating, same rounds)", k, r.find("get", goFloor), 1.08)
	if h, g := r.find("get", "helper get, answered by"), r.find("get", goFloor); h != nil && g != nil && k != nil {
		hm, gm, km := summarize(h.wall).med, summarize(g.wall).med, summarize(k.wall).med
		fmt.Fprintf(w, "| of which the helper's own process (against the Go floor server) | %.2f× | |\n", hm/gm)
		fmt.Fprintf(w, "| of which the agent's answer (helper against the agent / against the Go floor server) | %.2f× | |\n", km/hm)
	}
	if c := r.find("get", "git credential-cache"); k != nil && c != nil {
		v := summarize(k.wall).med / summarize(c.wall).med
		fmt.Fprintf(w, "| helper get against git credential-cache get (reported) | %.2f× | |\n", v)
	}
	ratio("per fetch: fill + approve through keyfob ≤ 1.1× through credential-cache", r.find("fetch", "keyfob"), r.find("fetch", "credential-cache"), 1.1)
	var oneShot8, persistentBest *loadRun
	for i := range r.load {
		l := &r.load[i]
		if l.floor || l.tokens != 1 {
			continue
		}
		if l.clients == 8 && !l.persistent {
			oneShot8 = l
		}
		if l.persistent && (persistentBest == nil || l.rate() > persistentBest.rate()) {
			persistentBest = l
		}
	}
	if oneShot8 != nil {
		cpu := float64(oneShot8.cpuPerReq()) / 1e3
		row("agent CPU ≤ 20 µs per one-shot get, audit on (8 clients)", fmt.Sprintf("%.1f µs", cpu), cpu <= 20, true)
		row("≥ 40,000 one-shot gets/s from 8 clients on this machine's cores, load generator included", fmt.Sprintf("%.0f/s", oneShot8.rate()), oneShot8.rate() >= 40000, true)
		row("p99 < 1 ms at 8 one-shot clients", ms(float64(oneShot8.p99))+" ms", oneShot8.p99 < time.Millisecond, true)
	} else {
		row("agent at 8 one-shot clients", "", false, false)
	}
	if persistentBest != nil {
		row("≥ 150,000 gets/s on persistent connections (best row)", fmt.Sprintf("%.0f/s (%d clients)", persistentBest.rate(), persistentBest.clients), persistentBest.rate() >= 150000, true)
	}
	row("agent idle RSS ≤ 12 MiB", mib(r.mem.idle), r.mem.idle <= 12<<20, r.mem.idle > 0)
	fmt.Fprintf(w, "| agent RSS flat under a soak | `make soak` (bench/soak) measures it, not this run | |\n\n")
}
