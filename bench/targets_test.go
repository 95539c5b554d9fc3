package main

import (
	"strings"
	"testing"
	"time"
)

// Each target set in absolute figures, or against credential-cache, shows
// what the Go floor made in the same run beside what keyfob made.
func TestTargetsShowTheFloor(t *testing.T) {
	runs := func(d time.Duration) []time.Duration { return []time.Duration{d, d, d} }
	r := &report{
		procs: []*proc{
			{name: "git-credential-keyfob get", group: "get", wall: runs(3 * time.Millisecond)},
			{name: goFloor + " (static Go, one socket round trip)", group: "get", wall: runs(2900 * time.Microsecond)},
			{name: "keyfob", group: "fetch", wall: runs(13 * time.Millisecond)},
			{name: goFloor, group: "fetch", wall: runs(12 * time.Millisecond)},
			{name: "credential-cache", group: "fetch", wall: runs(10 * time.Millisecond)},
		},
		load: []loadRun{
			{clients: 8, tokens: 1, requests: 30000, elapsed: 2 * time.Second, cpu: 1500 * time.Millisecond, p99: 2 * time.Millisecond},
			{clients: 8, tokens: 1, persistent: true, requests: 60000, elapsed: 2 * time.Second, cpu: 1200 * time.Millisecond},
			{floor: true, clients: 8, requests: 36000, elapsed: 2 * time.Second, cpu: 1440 * time.Millisecond, p99: 1500 * time.Microsecond},
			{floor: true, clients: 8, persistent: true, requests: 200000, elapsed: 2 * time.Second, cpu: 2000 * time.Millisecond},
		},
	}
	var b strings.Builder
	r.targets(&b)
	for _, want := range []string{
		"| per fetch: fill + approve through keyfob ≤ 1.1× through credential-cache | 1.30× | 1.20× | not met |",
		"| agent CPU ≤ 20 µs per one-shot get, audit on (8 clients) | 50.0 µs | 40.0 µs | not met |",
		"| ≥ 40,000 one-shot gets/s from 8 clients on this machine's cores, load generator included | 15000/s | 18000/s | not met |",
		"| p99 < 1 ms at 8 one-shot clients | 2.00 ms | 1.50 ms | not met |",
		"| ≥ 150,000 gets/s on persistent connections (best row) | 30000/s (8 clients) | 100000/s (8 clients) | not met |",
		"| helper get ≤ 1.08× the Go floor (alternating, same rounds) | 1.03× |  | met |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("targets lack %q:\n%s", want, b.String())
		}
	}
}
