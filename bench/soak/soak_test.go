// Package soak holds keyfob's soak tests: a real agent (keyfob serve, file
// backend) under held-open connections, a long mixed stream of valid and
// malformed requests, kill -9 during keychain writes, a full audit disk and
// a failing keychain. They check behaviour, never timing. By default they
// run small; KEYFOB_SOAK=long (make soak) runs the full counts.
package soak

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyfob/keyfob/bench/internal/agentproc"
	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/store"
)

var keyfobBin string

// long reports whether the full soak was asked for.
func long() bool { return os.Getenv("KEYFOB_SOAK") == "long" }

// pick returns short or, under KEYFOB_SOAK=long, full.
func pick(short, full int) int {
	if long() {
		return full
	}
	return short
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "keyfob-soak-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	keyfobBin = filepath.Join(dir, "keyfob")
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/keyfob/keyfob/cmd/keyfob", "github.com/keyfob/keyfob/cmd/git-credential-keyfob")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build keyfob: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startAgent runs a fresh agent in a private home under dir (t.TempDir()
// when dir is "").
func startAgent(t *testing.T, home string) *agentproc.Agent {
	t.Helper()
	if home == "" {
		home = shortTempDir(t)
	}
	a, err := agentproc.New(keyfobBin, home)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Stop(); err != nil {
			t.Error(err)
		}
	})
	return a
}

// shortTempDir is a temporary directory with a path short enough for a
// Unix socket under it.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "kf-soak-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func newToken() client.Secret {
	return client.NewSecret(fmt.Sprintf("ghp_soak%016x%016x", rand.Uint64(), rand.Uint64()))
}

func getLine(path string) []byte {
	b, _ := client.EncodeRequest(&client.Request{V: client.Version, Op: client.OpGet,
		Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: path}})
	return b
}

// exchange writes line on c and reads one answer within deadline.
func exchange(c net.Conn, r *bufio.Reader, line []byte, deadline time.Duration) (*client.Response, error) {
	_ = c.SetDeadline(time.Now().Add(deadline))
	if _, err := c.Write(line); err != nil {
		return nil, err
	}
	ans, err := client.ReadLine(r)
	if err != nil {
		return nil, err
	}
	return client.DecodeResponse(ans)
}

// auditLines reads the audit log; every line must be one JSON object.
func auditLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("audit line %d is not one JSON object (%v): %.120q", i+1, err, line)
		}
		out = append(out, m)
	}
	return out
}

// TestSoakIdleConnections holds many idle connections open while normal
// traffic runs: every normal request must be answered within its deadline.
// The agent closes a connection idle for 10s, so held connections that it
// closes are opened again, keeping the count up.
func TestSoakIdleConnections(t *testing.T) {
	a := startAgent(t, "")
	if err := agentproc.Add(a.Socket, "work", newToken(), "github.com"); err != nil {
		t.Fatal(err)
	}
	idle := pick(200, 1000)
	dur := time.Duration(pick(2, 25)) * time.Second
	// The deadline is well under the agent's 10 s idle timeout, so a
	// request held behind the idle connections misses it. The short run
	// shares the machine with the rest of go test ./..., and gets more.
	const workers = 8
	deadline := time.Duration(pick(5, 2)) * time.Second

	stop := make(chan struct{})
	var held sync.WaitGroup
	var open atomic.Int64
	var dialFail atomic.Int64
	for range idle {
		held.Add(1)
		go func() {
			defer held.Done()
			buf := make([]byte, 1)
			for {
				c, err := net.Dial("unix", a.Socket)
				if err != nil {
					dialFail.Add(1)
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					continue
				}
				open.Add(1)
				done := make(chan struct{})
				go func() { _, _ = c.Read(buf); close(done) }() // returns when the agent closes it
				select {
				case <-stop:
					c.Close()
					<-done
					open.Add(-1)
					return
				case <-done:
					c.Close()
					open.Add(-1)
				}
			}
		}()
	}
	// Wait until the idle connections are all open.
	for end := time.Now().Add(10 * time.Second); open.Load() < int64(idle) && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := open.Load(); n < int64(idle) {
		t.Fatalf("only %d of %d idle connections open", n, idle)
	}

	var sent, answered, late atomic.Int64
	var fails sync.Map
	var wg sync.WaitGroup
	end := time.Now().Add(dur)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(end); i++ {
				sent.Add(1)
				t0 := time.Now()
				c, err := net.DialTimeout("unix", a.Socket, deadline)
				if err != nil {
					fails.Store(fmt.Sprintf("dial: %v", err), true)
					continue
				}
				resp, err := exchange(c, bufio.NewReader(c), getLine(fmt.Sprintf("w%d/%d", w, i)), deadline)
				c.Close()
				switch {
				case err != nil:
					fails.Store(err.Error(), true)
				case resp.Code != "":
					fails.Store(resp.Code+": "+resp.Error, true)
				case time.Since(t0) > deadline:
					late.Add(1)
				default:
					answered.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	minOpen := open.Load()
	close(stop)
	held.Wait()
	fails.Range(func(k, _ any) bool { t.Errorf("normal request failed: %v", k); return true })
	if late.Load() > 0 {
		t.Errorf("%d requests answered after their %s deadline", late.Load(), deadline)
	}
	if answered.Load() != sent.Load() {
		t.Errorf("answered %d of %d normal requests", answered.Load(), sent.Load())
	}
	t.Logf("%d idle connections held (%d open at the end, %d re-dials refused); %d normal requests, all answered within %s",
		idle, minOpen, dialFail.Load(), answered.Load(), deadline)
	if a.Exited() {
		t.Fatalf("agent exited: %s", a.Stderr.String())
	}
}

// TestSoakMixedRequests sends valid and malformed requests, mixed, and
// checks the audit log: every decision is there exactly once.
func TestSoakMixedRequests(t *testing.T) {
	a := startAgent(t, "")
	if err := agentproc.Add(a.Socket, "work", newToken(), "github.com"); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(a.AuditPath(), 0); err != nil {
		t.Fatal(err)
	}
	total := pick(4000, 100000)
	const workers = 8
	malformed := [][]byte{
		[]byte("not json\n"),
		[]byte(`{"v":2,"op":"get"}` + "\n"),
		[]byte(`{"v":1}` + "\n"),
		[]byte(`{"v":1,"op":"get","cred":"x"}` + "\n"),
		append(bytes.Repeat([]byte("x"), client.MaxMessage+10), '\n'),
	}
	var nValid, nBad, nUnknown atomic.Int64
	var errs sync.Map
	var wg sync.WaitGroup
	// The agent's RSS at each tenth of the stream, reported (never a
	// pass/fail check): it should stay flat once the first requests have
	// grown the heap to its working size.
	var done atomic.Int64
	rss := make([]int64, 0, 11)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for next := 0; next <= 10; {
			if n := done.Load(); n >= int64(next*total/10) {
				if m, _, err := agentproc.Memory(a.PID()); err == nil {
					rss = append(rss, m)
				}
				next++
				continue
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			var c net.Conn
			var r *bufio.Reader
			for i := w; i < total; i += workers {
				if c == nil {
					var err error
					if c, err = net.Dial("unix", a.Socket); err != nil {
						errs.Store("dial: "+err.Error(), true)
						return
					}
					r = bufio.NewReader(c)
				}
				var line []byte
				kind := rng.IntN(10)
				switch {
				case kind < 7:
					line = getLine(fmt.Sprintf("soak/%d", i))
				case kind < 8:
					line, _ = client.EncodeRequest(&client.Request{V: client.Version, Op: "frobnicate"})
				default:
					line = malformed[rng.IntN(len(malformed))]
				}
				resp, err := exchange(c, r, line, 10*time.Second)
				done.Add(1)
				if err != nil {
					errs.Store(fmt.Sprintf("request %d: %v", i, err), true)
					c.Close()
					c = nil
					continue
				}
				switch {
				case kind < 7 && resp.Code == "" && !resp.Secret.IsZero():
					nValid.Add(1)
				case kind == 7 && resp.Code == client.CodeBadRequest:
					nUnknown.Add(1)
				case kind > 7 && resp.Code == client.CodeBadRequest:
					nBad.Add(1)
					// The agent closes a connection after an unreadable
					// request.
					c.Close()
					c = nil
				default:
					errs.Store(fmt.Sprintf("request %d (kind %d): unexpected answer %q %q", i, kind, resp.Code, resp.Error), true)
				}
			}
			if c != nil {
				c.Close()
			}
		}()
	}
	wg.Wait()
	<-sampled
	errs.Range(func(k, _ any) bool { t.Error(k); return true })
	var kib []string
	for _, m := range rss {
		kib = append(kib, fmt.Sprint(m>>10))
	}
	t.Logf("agent VmRSS (KiB) at each tenth of %d requests: %s", total, strings.Join(kib, " "))

	lines := auditLines(t, a.AuditPath())
	seen := map[string]int{}
	var granted, decodeBad, unknownBad int
	for _, l := range lines {
		switch {
		case l["decision"] == "granted":
			granted++
			p, _ := l["path"].(string)
			seen[p]++
		case l["decision"] == "bad-request" && strings.Contains(fmt.Sprint(l["reason"]), "unknown op"):
			unknownBad++
		case l["decision"] == "bad-request":
			decodeBad++
		default:
			t.Errorf("unexpected audit line: op %v decision %v", l["op"], l["decision"])
		}
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("audit has %d lines for %s, want 1", n, p)
		}
	}
	if granted != int(nValid.Load()) || len(seen) != granted {
		t.Errorf("audit: %d granted lines (%d distinct paths), %d valid requests answered", granted, len(seen), nValid.Load())
	}
	if decodeBad != int(nBad.Load()) || unknownBad != int(nUnknown.Load()) {
		t.Errorf("audit: %d + %d bad-request lines, %d malformed + %d unknown-op requests answered",
			decodeBad, unknownBad, nBad.Load(), nUnknown.Load())
	}
	if sum := nValid.Load() + nBad.Load() + nUnknown.Load(); sum != int64(total) {
		t.Errorf("%d of %d requests answered as expected", sum, total)
	}
	t.Logf("%d requests: %d valid, %d malformed, %d unknown op; %d audit lines, none lost, none doubled",
		total, nValid.Load(), nBad.Load(), nUnknown.Load(), len(lines))
}

// TestSoakKill9 kills the agent with SIGKILL at random points during add,
// rotate and remove, and checks the file keychain after each kill: every
// item reads back whole, every acknowledged change is there, and a change
// in flight is either fully there or not at all.
func TestSoakKill9(t *testing.T) {
	home := shortTempDir(t)
	a, err := agentproc.New(keyfobBin, home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Kill)
	rounds := pick(8, 60)
	// want holds each token's fingerprint as last acknowledged.
	want := map[string]string{}
	var inflight struct {
		op, name, oldFP, newFP string
	}
	kills := 0
	for round := range rounds {
		if err := a.Start(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			rng := rand.New(rand.NewPCG(uint64(round), 7))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				names := make([]string, 0, len(want))
				for n := range want {
					names = append(names, n)
				}
				op := "add"
				if len(names) > 0 && (len(names) >= 12 || rng.IntN(3) > 0) {
					op = []string{"rotate", "remove"}[rng.IntN(2)]
				}
				req := &client.Request{Op: op}
				if op == "add" {
					req.Name = fmt.Sprintf("t%d-%d", round, i)
					req.Meta = &client.TokenMeta{Hosts: []string{"github.com"}}
				} else {
					req.Name = names[rng.IntN(len(names))]
				}
				if op != "remove" {
					req.Secret = newToken()
				}
				inflight.op, inflight.name, inflight.oldFP, inflight.newFP = op, req.Name, want[req.Name], req.Secret.Fingerprint()
				if _, err := client.Call(a.Socket, req); err != nil {
					return // killed mid-request: inflight stays set
				}
				if op == "remove" {
					delete(want, req.Name)
				} else {
					want[req.Name] = inflight.newFP
				}
				inflight.op = ""
			}
		}()
		time.Sleep(time.Duration(rand.IntN(40_000)) * time.Microsecond)
		a.Kill()
		kills++
		close(stop)
		<-done

		st, err := store.Open(store.Options{Backend: store.File, Dir: a.KeyringDir(), Passphrase: client.NewSecret(agentproc.Passphrase)})
		if err != nil {
			t.Fatalf("round %d: open keychain after kill -9: %v", round, err)
		}
		toks, bad, err := st.Load()
		if err != nil {
			t.Fatalf("round %d: load keychain after kill -9: %v", round, err)
		}
		for _, b := range bad {
			t.Errorf("round %d: half-written item after kill -9 during %s %s: %v", round, inflight.op, inflight.name, b)
		}
		got := map[string]string{}
		for _, tok := range toks {
			got[tok.Name] = tok.Secret.Fingerprint()
		}
		for name, fp := range want {
			g, ok := got[name]
			if inflight.op != "" && name == inflight.name {
				switch {
				case inflight.op == "remove" && ok && g != fp:
					t.Errorf("round %d: %s changed by an interrupted remove", round, name)
				case inflight.op == "rotate" && (!ok || (g != fp && g != inflight.newFP)):
					t.Errorf("round %d: interrupted rotate of %s left neither the old nor the new secret (present %v)", round, name, ok)
				}
				continue
			}
			if !ok {
				t.Errorf("round %d: %s lost after kill -9 during %s %s", round, name, inflight.op, inflight.name)
			} else if g != fp {
				t.Errorf("round %d: %s has a secret that was never acknowledged", round, name)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok && !(inflight.op == "add" && name == inflight.name) && !(inflight.op == "remove" && name == inflight.name) {
				t.Errorf("round %d: %s present, but it was removed or never added", round, name)
			}
		}
		// What the keychain holds now is the truth for the next round.
		want = got
		inflight.op = ""
	}
	// An interrupted write leaves a staging directory; the next start
	// removes it.
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if stages, _ := filepath.Glob(filepath.Join(a.KeyringDir(), ".stage-*")); len(stages) > 0 {
		t.Errorf("%d staging directories left after a restart", len(stages))
	}
	t.Logf("%d kills during add/rotate/remove; keychain whole after each, %d tokens at the end", kills, len(want))
}

// TestSoakAuditDiskFull fills the disk under the audit log: the agent must
// refuse to hand out a token it cannot audit, say why, keep every audit line
// whole, and serve again by itself once space returns.
func TestSoakAuditDiskFull(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to mount a small tmpfs for the state directory (mount -t tmpfs)")
	}
	home := shortTempDir(t)
	state := filepath.Join(home, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", state).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (mount -t tmpfs): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", state).Run() })
	a := startAgent(t, home)
	secret := newToken()
	if err := agentproc.Add(a.Socket, "work", secret, "github.com"); err != nil {
		t.Fatal(err)
	}
	get := func() (*client.Response, error) {
		return client.Call(a.Socket, &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "github.com"}})
	}
	if _, err := get(); err != nil {
		t.Fatalf("get before the disk fills: %v", err)
	}

	// Fill the file system.
	filler := filepath.Join(state, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	for n := 512; n >= 1; n /= 2 {
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
	f.Close()

	// Requests until the audit log's last page is used up; from then on
	// every get must be refused.
	refused := 0
	for i := 0; i < 200 && refused < 20; i++ {
		resp, err := get()
		if err == nil {
			continue
		}
		refused++
		if !client.IsCode(err, client.CodeUnavailable) || !strings.Contains(err.Error(), "audit log") || resp.Hint == "" {
			t.Fatalf("get with the audit disk full: %v (code %q, hint %q), want unavailable naming the audit log, with a hint", err, resp.Code, resp.Hint)
		}
		if !resp.Secret.IsZero() {
			t.Fatal("a refused get carried a secret")
		}
	}
	if refused == 0 {
		t.Fatal("the agent kept handing out tokens with its audit disk full")
	}
	// The helper passes on the refusal on stderr and writes nothing for git.
	helper := exec.Command(filepath.Join(filepath.Dir(keyfobBin), "git-credential-keyfob"), "get")
	{
		helper.Env = a.Env()
		helper.Stdin = strings.NewReader("protocol=https\nhost=github.com\n\n")
		var so, se bytes.Buffer
		helper.Stdout, helper.Stderr = &so, &se
		_ = helper.Run()
		if so.Len() != 0 || !strings.Contains(se.String(), "audit log") {
			t.Errorf("helper with the audit disk full: stdout %d bytes, stderr %q; want nothing on stdout and the reason on stderr", so.Len(), se.String())
		}
	}

	// Space returns: the agent serves again without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	resp, err := get()
	if err != nil {
		t.Fatalf("get after space returned: %v", err)
	}
	if !resp.Secret.Equal(secret) {
		t.Fatal("get after space returned: wrong token")
	}
	// Every line in the audit log is whole: a failed write leaves no
	// fragment that would corrupt the next line.
	lines := auditLines(t, a.AuditPath())
	t.Logf("%d gets refused while the disk was full; served again after; %d audit lines, all whole", refused, len(lines))
}

// TestSoakKeyringFailure breaks the file keychain under a running agent,
// then mends it: changes fail with a clear error while it is broken, tokens
// already unlocked keep being served from memory, and changes work again
// without a restart.
func TestSoakKeyringFailure(t *testing.T) {
	a := startAgent(t, "")
	if err := agentproc.Add(a.Socket, "work", newToken(), "github.com"); err != nil {
		t.Fatal(err)
	}
	dir := a.KeyringDir()
	// Break it: the keychain directory is replaced by a plain file.
	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, req := range []*client.Request{
		{Op: client.OpAdd, Name: "second", Meta: &client.TokenMeta{Hosts: []string{"example.com"}}, Secret: newToken()},
		{Op: client.OpRotate, Name: "work", Secret: newToken()},
		{Op: client.OpRemove, Name: "work"},
	} {
		resp, err := client.Call(a.Socket, req)
		if !client.IsCode(err, client.CodeUnavailable) || !strings.Contains(err.Error(), "keychain") {
			t.Errorf("%s with the keychain broken: %v, want an unavailable error naming the keychain", req.Op, err)
		}
		if resp != nil && resp.Hint == "" {
			t.Errorf("%s with the keychain broken: no hint", req.Op)
		}
	}
	if _, err := client.Call(a.Socket, &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "github.com"}}); err != nil {
		t.Errorf("get with the keychain broken: %v, want the token from memory", err)
	}
	// Mend it.
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir+".away", dir); err != nil {
		t.Fatal(err)
	}
	if err := agentproc.Add(a.Socket, "second", newToken(), "example.com"); err != nil {
		t.Fatalf("add after the keychain came back: %v", err)
	}
	if _, err := client.Call(a.Socket, &client.Request{Op: client.OpRotate, Name: "work", Secret: newToken()}); err != nil {
		t.Fatalf("rotate after the keychain came back: %v", err)
	}
	resp, err := client.Call(a.Socket, &client.Request{Op: client.OpList})
	if err != nil || len(resp.Tokens) != 2 {
		t.Fatalf("list after the keychain came back: %v, %d tokens, want 2", err, len(resp.Tokens))
	}
}
