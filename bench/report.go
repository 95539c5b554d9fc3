package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

type report struct {
	machine [][2]string
	rounds  int
	warm    int
	loadDur time.Duration
	procs   []*proc
	load    []loadRun
	mem     memory
}

func ms(ns float64) string { return fmt.Sprintf("%.2f", ns/1e6) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (r *report) find(group, prefix string) *proc {
	for _, p := range r.procs {
		if p.group == group && strings.HasPrefix(p.name, prefix) && p.skip == "" && len(p.wall) > 0 {
			return p
		}
	}
	return nil
}

func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "# keyfob benchmarks\n\n")
	fmt.Fprintf(w, "Written by `make bench` (the program in `bench/`). Every number below comes from one run on the machine below; "+
		"they are reported numbers, not pass/fail tests. Re-run on your own machine to compare.\n\n")
	fmt.Fprintf(w, "## Machine\n\n| | |\n|---|---|\n")
	for _, kv := range r.machine {
		fmt.Fprintf(w, "| %s | %s |\n", kv[0], kv[1])
	}
	fmt.Fprintf(w, "\n## How to re-run\n\n```sh\nmake bench                       # builds bin/, starts a private D-Bus session with gnome-keyring, writes this file\n"+
		"make bench BENCHFLAGS='-n 100'   # fewer rounds\n```\n\n"+
		"It needs `git`, `gh`, `gnome-keyring`, `dbus`, `libsecret-1-dev` and `pkg-config` (`make deps` installs them as root). "+
		"A contender that cannot run is listed as skipped, with the reason.\n\n")

	fmt.Fprintf(w, "## Whole processes\n\n")
	fmt.Fprintf(w, "Each contender is started as a new process with git's credential request on stdin, %d times after %d warm-up rounds. "+
		"Every round runs all contenders once, in a new random order, so drift on the machine spreads evenly. "+
		"Times are wall clock from fork to exit, as seen by the parent; CPU is the child's user+system time. Peak RSS is `ru_maxrss` "+
		"(for `git credential fill`, git's or its helper's, whichever is larger), median of 10 separate runs started by `bench/rss`, a small static starter: "+
		"the kernel counts the starter's own memory up to the exec, so the floor's figure is the lower bound of this column. "+
		"Spread: p10–p90, and MAD (median absolute deviation).\n\n", r.rounds, r.warm)
	for _, g := range []struct{ group, title, prefix string }{
		{"get", "A helper's get (what git pays per fetch, per helper)", ""},
		{"fill", "`git credential fill` end to end through each helper", "fill via "},
		{"fetch", "Per fetch: `git credential fill`, then `git credential approve` with what it printed", "fill + approve via "},
	} {
		fmt.Fprintf(w, "### %s\n\n", g.title)
		fmt.Fprintf(w, "| contender | median ms | p10–p90 ms | MAD ms | × floor | × Go floor | × keyfob | CPU ms | peak RSS | runs |\n")
		fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		floor, gofloor, ref := r.find(g.group, "floor"), r.find(g.group, goFloor), r.find(g.group, "keyfob")
		if g.group == "get" {
			ref = r.find(g.group, "git-credential-keyfob")
		}
		for _, p := range r.procs {
			if p.group != g.group {
				continue
			}
			name := g.prefix + p.name
			if p.skip != "" || len(p.wall) == 0 {
				fmt.Fprintf(w, "| %s | skipped: %s | | | | | | | | |\n", name, strings.ReplaceAll(p.skip, "|", "/"))
				continue
			}
			s := summarize(p.wall)
			ratio := func(o *proc) string {
				if o == nil {
					return "–"
				}
				return fmt.Sprintf("%.2f", s.med/summarize(o.wall).med)
			}
			rss := "–"
			if len(p.maxrss) > 0 {
				sorted := slices.Clone(p.maxrss)
				slices.Sort(sorted)
				rss = mib(sorted[len(sorted)/2])
			}
			fails := ""
			if p.fails > 0 {
				fails = fmt.Sprintf(" (%d failed)", p.fails)
			}
			fmt.Fprintf(w, "| %s | %s | %s–%s | %s | %s | %s | %s | %s | %s | %d%s |\n", name, ms(s.med), ms(s.p10), ms(s.p90), ms(s.mad),
				ratio(floor), ratio(gofloor), ratio(ref), ms(summarize(p.cpu).med), rss, s.n, fails)
		}
		fmt.Fprintln(w)
	}
	r.targets(w)

	fmt.Fprintf(w, "### Reading the process numbers\n\n"+
		"- The floor row is the cost of starting any Go program here: runtime set-up (heap arenas, signal handlers, a few threads). "+
		"git's credential-cache get is a small C program talking to a daemon and costs about the same, so a Go helper cannot come in under "+
		"1.0× of it; the helper's budget over the floor is what the client code controls.\n"+
		"- The helper is a byte pump (client/pump): it checks git's lines, sends them to the agent and copies the agent's answer, already in "+
		"git's terms, with plain socket system calls (SO_RCVTIMEO/SO_SNDTIMEO, no net poller) and none of fmt, net, crypto, encoding/json, "+
		"reflect or os/exec in its binary. The row against the Go floor server is what the helper's own process costs over the floor; "+
		"the rest of its × Go floor is the agent's answer.\n"+
		"- The Go floor is a static Go client (bench/floor) doing only the socket round trip, with plain system calls, against a Go server "+
		"(bench/floorsrv) that answers every request at once with a fixed answer: the least any Go helper asking a daemon can cost. "+
		"The helper's × Go floor is what its own code and the agent add to that.\n"+
		"- `git credential fill` adds git's own start-up and a fork of the helper to every row, which narrows the ratios; "+
		"per fetch, git also runs `approve` after a fetch that needed a credential, a second start of git and the helper (store).\n\n")
	fmt.Fprintf(w, "## The agent under load\n\n")
	fmt.Fprintf(w, "A real `keyfob serve` (file backend, audit log on) answers `get` requests over its Unix socket from N concurrent clients "+
		"in the bench process, for %s per row. One-shot clients connect, ask once and close, as the git helper does; persistent clients keep "+
		"one connection. Latency is per request, connect included. The load generator shares the machine's CPUs with the agent. "+
		"CPU per request is the agent's user+system time (from /proc/PID/stat) divided by the requests answered. "+
		"The audit log is emptied between rows; every request still writes its line. "+
		"The last two rows load the Go floor server (bench/floorsrv, which answers at once) the same way, for scale; "+
		"its CPU column is that server's.\n\n", r.loadDur)
	fmt.Fprintf(w, "| clients | connections | tokens held | requests/s | p50 ms | p99 ms | agent CPU µs/request | errors |\n")
	fmt.Fprintf(w, "|---:|---|---:|---:|---:|---:|---:|---:|\n")
	for _, l := range r.load {
		kind := "one-shot"
		if l.persistent {
			kind = "persistent"
		}
		if l.floor {
			kind += ", Go floor server"
		}
		fmt.Fprintf(w, "| %d | %s | %d | %.0f | %s | %s | %.1f | %d |\n", l.clients, kind, l.tokens, l.rate(),
			ms(float64(l.p50)), ms(float64(l.p99)), float64(l.cpuPerReq())/1e3, l.errors)
	}
	fmt.Fprintf(w, "\n- One-shot rows pay a connection per request: accept, the peer's credentials and executable (one getsockopt, one "+
		"readlink), the audit line (one stat of its name, one write), the answer, the read of the client's close and the close: "+
		"nine system calls, on the same two CPUs as the load generator. The Go floor server's one-shot row is what the load "+
		"generator and the kernel leave for any Go server here.\n"+
		"- A request that is whole in the agent's first read, from a client that has closed its sending side (the helper), is "+
		"answered with plain reads and writes on the descriptor, which never enters the runtime's poller; any other connection "+
		"goes to the poller and is read with deadlines.\n"+
		"- Persistent rows pay, per request, a read, the audit line (one stat of its name and one write, "+
		"which `BenchmarkWrite` in daemon/audit measures) and the answer; the Go floor server's persistent row pays a read and a write. "+
		"Every hand-out writes its own line before its answer: one write shared by the lines of concurrent requests was "+
		"tried and cost as much CPU as it saved, on one P.\n"+
		"- The agent keeps the goroutines and buffers that served connections for the next ones (up to 16), so a one-shot "+
		"request does not pay for a new goroutine's stack to grow.\n"+
		"- The agent runs Go code on one thread (GOMAXPROCS=1, unless set in its environment): its work per request is a few "+
		"microseconds between system calls, and handing goroutines from thread to thread cost more CPU per request than that. "+
		"The system calls of a one-shot request are raw on linux/amd64 and arm64 (none of them waits; the audit log's are raw "+
		"only on a local file system), so one the kernel preempts does not make the runtime hand its one P to another thread.\n")
	fmt.Fprintf(w, "\n### Agent memory (VmRSS)\n\n| state | RSS |\n|---|---:|\n")
	fmt.Fprintf(w, "| idle (4.5 s after the timed rounds, 1 token) | %s |\n| after the load rows above | %s |\n| holding %d tokens | %s |\n| peak (VmHWM) | %s |\n\n",
		mib(r.mem.idle), mib(r.mem.afterLoad), r.mem.tokens, mib(r.mem.withTokens), mib(r.mem.peak))
}
