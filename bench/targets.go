package main

import (
	"fmt"
	"io"
	"time"
)

// targets writes the table of targets, each with what this run measured
// and whether it was met. Nothing here fails a build: they are reported.
// A target set against credential-cache or in absolute figures also shows
// what the Go floor made in the same run (the Go floor client, or the Go
// floor server under the same load): on a slower machine such a target
// can be out of reach for any Go program.
func (r *report) targets(w io.Writer) {
	fmt.Fprintf(w, "### Targets\n\n| target | measured | the Go floor, same run | |\n|---|---:|---:|---|\n")
	floorRow := func(name, measured, floor string, ok, have bool) {
		switch {
		case !have:
			fmt.Fprintf(w, "| %s | not measured | | |\n", name)
		case ok:
			fmt.Fprintf(w, "| %s | %s | %s | met |\n", name, measured, floor)
		default:
			fmt.Fprintf(w, "| %s | %s | %s | not met |\n", name, measured, floor)
		}
	}
	row := func(name, measured string, ok, have bool) { floorRow(name, measured, "", ok, have) }
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
		fmt.Fprintf(w, "| of which the helper's own process (against the Go floor server) | %.2f× | | |\n", hm/gm)
		fmt.Fprintf(w, "| of which the agent's answer (helper against the agent / against the Go floor server) | %.2f× | | |\n", km/hm)
	}
	if c := r.find("get", "git credential-cache"); k != nil && c != nil {
		v := summarize(k.wall).med / summarize(c.wall).med
		fmt.Fprintf(w, "| helper get against git credential-cache get (reported) | %.2f× | | |\n", v)
	}
	if f, c, g := r.find("fetch", "keyfob"), r.find("fetch", "credential-cache"), r.find("fetch", goFloor); f != nil && c != nil {
		v := summarize(f.wall).med / summarize(c.wall).med
		floor := ""
		if g != nil {
			floor = fmt.Sprintf("%.2f×", summarize(g.wall).med/summarize(c.wall).med)
		}
		floorRow("per fetch: fill + approve through keyfob ≤ 1.1× through credential-cache", fmt.Sprintf("%.2f×", v), floor, v <= 1.1, true)
	} else {
		row("per fetch: fill + approve through keyfob ≤ 1.1× through credential-cache", "", false, false)
	}
	var oneShot8, persistentBest, floorOneShot, floorPersistent *loadRun
	for i := range r.load {
		l := &r.load[i]
		if l.floor {
			if l.persistent {
				floorPersistent = l
			} else {
				floorOneShot = l
			}
			continue
		}
		if l.tokens != 1 {
			continue
		}
		if l.clients == 8 && !l.persistent {
			oneShot8 = l
		}
		if l.persistent && (persistentBest == nil || l.rate() > persistentBest.rate()) {
			persistentBest = l
		}
	}
	cpu := func(l *loadRun) string {
		if l == nil {
			return ""
		}
		return fmt.Sprintf("%.1f µs", float64(l.cpuPerReq())/1e3)
	}
	rate := func(l *loadRun) string {
		if l == nil {
			return ""
		}
		return fmt.Sprintf("%.0f/s", l.rate())
	}
	if oneShot8 != nil {
		c := float64(oneShot8.cpuPerReq()) / 1e3
		floorRow("agent CPU ≤ 20 µs per one-shot get, audit on (8 clients)", cpu(oneShot8), cpu(floorOneShot), c <= 20, true)
		floorRow("≥ 40,000 one-shot gets/s from 8 clients on this machine's cores, load generator included", rate(oneShot8), rate(floorOneShot), oneShot8.rate() >= 40000, true)
		p99 := ""
		if floorOneShot != nil {
			p99 = ms(float64(floorOneShot.p99)) + " ms"
		}
		floorRow("p99 < 1 ms at 8 one-shot clients", ms(float64(oneShot8.p99))+" ms", p99, oneShot8.p99 < time.Millisecond, true)
	} else {
		row("agent at 8 one-shot clients", "", false, false)
	}
	if persistentBest != nil {
		floorRow("≥ 150,000 gets/s on persistent connections (best row)", fmt.Sprintf("%.0f/s (%d clients)", persistentBest.rate(), persistentBest.clients),
			rate(floorPersistent)+" (8 clients)", persistentBest.rate() >= 150000, true)
	}
	row("agent idle RSS ≤ 12 MiB", mib(r.mem.idle), r.mem.idle <= 12<<20, r.mem.idle > 0)
	fmt.Fprintf(w, "| agent RSS flat under a soak | `make soak` (bench/soak) measures it, not this run | | |\n\n")
}
