package soak

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyfob/keyfob/bench/internal/agentproc"
	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/pump"
)

// TestSoakMemoryOverTime asks the agent for a stretch of time (10 minutes
// under make soak, 3 seconds otherwise) from 8 clients: six ask as
// git-credential-keyfob does (a connection per request, git's lines), two
// keep a connection and ask on the JSON wire. The audit log rotates by
// size meanwhile. It reports the agent's RSS at each tenth of the time
// (never a pass/fail check: it should stay flat once the first requests
// have grown the heap); every request must get the token.
func TestSoakMemoryOverTime(t *testing.T) {
	home := shortTempDir(t)
	cfg := filepath.Join(home, "config", "keyfob", "config.toml")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("[audit]\nmax_size = \"4MB\"\nkeep = 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, home)
	if err := agentproc.Add(a.Socket, "work", newToken(), "github.com"); err != nil {
		t.Fatal(err)
	}
	dur := time.Duration(pick(3, 600)) * time.Second
	end := time.Now().Add(dur)
	var asked, failed atomic.Int64
	var firstErr sync.Once
	fail := func(err error) {
		failed.Add(1)
		firstErr.Do(func() { t.Errorf("first failure: %v", err) })
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c net.Conn
			var r *bufio.Reader
			for i := 0; time.Now().Before(end); i++ {
				path := fmt.Sprintf("soak/%d-%d", w, i)
				asked.Add(1)
				if w < 6 {
					if err := askAsHelper(a.Socket, path); err != nil {
						fail(err)
					}
					continue
				}
				if c == nil {
					var err error
					if c, err = net.Dial("unix", a.Socket); err != nil {
						fail(err)
						continue
					}
					r = bufio.NewReader(c)
				}
				resp, err := exchange(c, r, getLine(path), 10*time.Second)
				if err != nil || resp.Code != "" || resp.Secret.IsZero() {
					fail(fmt.Errorf("get %s on a held connection: %v %+v", path, err, resp))
					c.Close()
					c = nil
				}
			}
			if c != nil {
				c.Close()
			}
		}()
	}
	var rss []string
	for tenth := 0; tenth <= 10; tenth++ {
		if m, _, err := agentproc.Memory(a.PID()); err == nil {
			rss = append(rss, fmt.Sprint(m>>10))
		}
		if tenth < 10 {
			time.Sleep(dur / 10)
		}
	}
	wg.Wait()
	t.Logf("agent VmRSS (KiB) at each tenth of %s, %d requests: %s", dur, asked.Load(), strings.Join(rss, " "))
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed", n, asked.Load())
	}
	rotated, err := os.Stat(a.AuditPath() + ".1")
	if long() && (err != nil || rotated.Size() == 0) {
		t.Errorf("the audit log never rotated: %v", err)
	}
	if a.Exited() {
		t.Fatalf("agent exited: %s", a.Stderr.String())
	}
}

// askAsHelper makes one request as git-credential-keyfob makes it: git's
// lines, the sending side closed, the whole answer read.
func askAsHelper(socket, path string) error {
	c, err := net.Dial("unix", socket)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req := pump.AppendRequest(nil, "get", []byte("protocol=https\nhost=github.com\npath="+path+"\n"))
	if _, err := c.Write(req); err != nil {
		return err
	}
	_ = c.(*net.UnixConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	ans, err := pump.ParseAnswer(b)
	if err != nil || ans.Status != 0 || !bytes.HasPrefix(ans.Out, []byte("username=x-access-token\npassword=ghp_soak")) {
		return fmt.Errorf("get %s: answer %q, %v", path, client.Mask(client.NewSecret(string(b))), err)
	}
	return nil
}
