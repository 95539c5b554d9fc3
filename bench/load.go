package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/keyfob/keyfob/bench/internal/agentproc"
	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/pump"
)

// loadRun is one load measurement against the agent.
type loadRun struct {
	// floor marks a row against the Go floor server, not the agent.
	floor      bool
	clients    int
	persistent bool
	tokens     int
	requests   int
	errors     int
	elapsed    time.Duration
	p50, p99   time.Duration
	cpu        time.Duration // the agent's user+system CPU during the run
}

func (l loadRun) rate() float64 { return float64(l.requests) / l.elapsed.Seconds() }

func (l loadRun) cpuPerReq() time.Duration {
	if l.requests == 0 {
		return 0
	}
	return l.cpu / time.Duration(l.requests)
}

// memory of the agent, in bytes.
type memory struct {
	idle, afterLoad, withTokens, peak int64
	tokens                            int
}

// loadSuite runs the concurrency matrix against ag, then adds tokens up to
// many and measures memory and one more run.
func loadSuite(ag *agentproc.Agent, dur time.Duration, many int, r *report) ([]loadRun, error) {
	pid := ag.PID()
	// Idle: past the agent's quiet spell (ReleaseIdle, 2 s, checked on a
	// 2 s tick), after which it has given back what the rounds grew.
	time.Sleep(4500 * time.Millisecond)
	var err error
	if r.mem.idle, _, err = agentproc.Memory(pid); err != nil {
		return nil, err
	}
	// What git-credential-keyfob sends for git's get.
	req := pump.AppendRequest(nil, "get", []byte("protocol=https\nhost="+host+"\n"))
	var runs []loadRun
	for _, persistent := range []bool{false, true} {
		for _, n := range []int{1, 8, 64, 512} {
			// The audit log grows by a line per request; start each run
			// from an empty one so the disk is not what is measured.
			_ = os.Truncate(ag.AuditPath(), 0)
			lr, err := load(ag.Socket, pid, req, n, persistent, dur)
			if err != nil {
				return nil, err
			}
			lr.tokens = 1
			fmt.Fprintf(os.Stderr, "bench: %3d clients persistent=%-5v %8.0f req/s p50 %v p99 %v\n", n, persistent, lr.rate(), lr.p50, lr.p99)
			runs = append(runs, lr)
		}
	}
	r.mem.afterLoad, _, _ = agentproc.Memory(pid)

	// Up to many tokens, on one connection.
	conn, err := client.Dial(ag.Socket)
	if err != nil {
		return nil, err
	}
	for i := 1; i < many; i++ {
		_, err := conn.Do(&client.Request{Op: client.OpAdd, Name: fmt.Sprintf("extra-%04d", i),
			Meta: &client.TokenMeta{Hosts: []string{fmt.Sprintf("git%04d.example.com", i)}}, Secret: randomToken()})
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("add token %d: %w", i, err)
		}
	}
	conn.Close()
	time.Sleep(200 * time.Millisecond)
	r.mem.tokens = many
	r.mem.withTokens, r.mem.peak, _ = agentproc.Memory(pid)
	for _, persistent := range []bool{false, true} {
		_ = os.Truncate(ag.AuditPath(), 0)
		lr, err := load(ag.Socket, pid, req, 8, persistent, dur)
		if err != nil {
			return nil, err
		}
		lr.tokens = many
		fmt.Fprintf(os.Stderr, "bench: %3d clients persistent=%-5v %8.0f req/s p50 %v p99 %v (%d tokens)\n", 8, persistent, lr.rate(), lr.p50, lr.p99, many)
		runs = append(runs, lr)
	}
	_ = os.Truncate(ag.AuditPath(), 0)
	// The Go floor server, which answers at once, under the same load.
	if floorSocket != "" {
		for _, persistent := range []bool{false, true} {
			lr, err := load(floorSocket, floorPID, req, 8, persistent, dur)
			if err != nil {
				return nil, err
			}
			lr.floor = true
			fmt.Fprintf(os.Stderr, "bench: %3d clients persistent=%-5v %8.0f req/s p50 %v p99 %v (Go floor server)\n", 8, persistent, lr.rate(), lr.p50, lr.p99)
			runs = append(runs, lr)
		}
	}
	return runs, nil
}

// load sends req from n concurrent clients for dur: each client opens a
// connection per request (one-shot, as the git helper does) or keeps one
// open (persistent). Latency is measured per request, connect included.
func load(socket string, pid int, req []byte, n int, persistent bool, dur time.Duration) (loadRun, error) {
	lr := loadRun{clients: n, persistent: persistent}
	lats := make([][]time.Duration, n)
	errs := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	cpu0, err := agentproc.CPUTime(pid)
	if err != nil {
		return lr, err
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			deadline := time.Now().Add(dur)
			var c net.Conn
			var br *bufio.Reader
			buf := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if c == nil {
					var err error
					if c, err = net.Dial("unix", socket); err != nil {
						errs[i]++
						continue
					}
					br = bufio.NewReaderSize(c, 4096)
				}
				_ = c.SetDeadline(t0.Add(10 * time.Second))
				ok := false
				if _, err := c.Write(req); err == nil {
					if !persistent {
						// As git-credential-keyfob does.
						_ = c.(*net.UnixConn).CloseWrite()
					}
					ok = readAnswer(br)
				}
				d := time.Since(t0)
				if !persistent || !ok {
					c.Close()
					c = nil
				}
				if !ok {
					errs[i]++
					continue
				}
				buf = append(buf, d)
			}
			if c != nil {
				c.Close()
			}
			lats[i] = buf
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	lr.elapsed = time.Since(t0)
	cpu1, err := agentproc.CPUTime(pid)
	if err != nil {
		return lr, err
	}
	lr.cpu = cpu1 - cpu0
	all := slices.Concat(lats...)
	slices.Sort(all)
	lr.requests = len(all)
	for _, e := range errs {
		lr.errors += e
	}
	if len(all) > 0 {
		lr.p50 = all[len(all)/2]
		lr.p99 = all[len(all)*99/100]
	}
	return lr, nil
}

// readAnswer reads one answer in git's terms (client/pump's framing) and
// reports whether it carried a password.
func readAnswer(br *bufio.Reader) bool {
	got := false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return false
		}
		if bytes.HasPrefix(line, []byte("o password=")) {
			got = true
		}
		if line[0] == 'x' {
			return got
		}
	}
}
