package grant

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/agent"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
	"github.com/keyfob/keyfob/daemon/peercred"
)

const (
	canary  = "ghp_canaryGRANT000000000000000000wxyz"
	canary2 = "ghp_canaryGRANTNEW0000000000000000abcd"
)

// TestMain doubles as a sandboxed git helper: with KEYFOB_TEST_PEER set to
// a socket, the test binary asks it for KEYFOB_TEST_URL's credential and
// prints what happened, without the secret.
func TestMain(m *testing.M) {
	if path := os.Getenv("KEYFOB_TEST_PEER"); path != "" {
		cred, _ := client.ParseRemote(os.Getenv("KEYFOB_TEST_URL"))
		resp, err := client.Call(path, &client.Request{Op: client.OpGet, Cred: &cred})
		switch {
		case err != nil:
			fmt.Println("refused:", err)
		case resp.Secret.Reveal() == canary:
			fmt.Println("served: the granted token")
		default:
			fmt.Println("served: something else")
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var me = peercred.Cred{UID: os.Getuid(), PID: os.Getpid()}

type fixture struct {
	a     *agent.Agent
	m     *Manager
	dir   string
	audit string
	logs  *observer.ObservedLogs
	now   atomic.Int64
}

func (f *fixture) clock() time.Time { return time.Unix(0, f.now.Load()) }
func (f *fixture) advance(d time.Duration) {
	f.now.Add(int64(d))
}

// newFixture starts an unlocked agent on the file backend with one token
// for github.com, and a grant manager over it.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := newBareFixture(t, "")
	f.add(t, client.OpAdd, "personal", canary, time.Time{})
	return f
}

// newBareFixture starts an unlocked agent with no token, its GitHub API at
// api, and a grant manager over it. Socket paths must stay under 108 bytes,
// so the directory is a short one.
func newBareFixture(t *testing.T, api string) *fixture {
	t.Helper()
	dir, err := os.MkdirTemp("", "kfg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fixture{dir: dir, audit: filepath.Join(dir, "audit.log")}
	f.now.Store(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano())
	alog, err := audit.Open(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close() })
	core, logs := observer.New(zap.DebugLevel)
	f.logs = logs
	f.a = agent.New(agent.Config{Backend: "file", Dir: filepath.Join(dir, "keyring"), Passphrase: client.NewSecret("pw"),
		Audit: alog, Log: zap.New(core), Now: f.clock, GitHubAPI: cmp.Or(api, "http://127.0.0.1:1")})
	if err := f.a.Start(); err != nil {
		t.Fatal(err)
	}
	f.a.Wait()
	f.m = New(Config{Agent: f.a, Log: zap.New(core), Now: f.clock, Dir: filepath.Join(dir, "grants")})
	t.Cleanup(f.m.Close)
	return f
}

func (f *fixture) add(t *testing.T, op, name, secret string, expires time.Time) {
	t.Helper()
	r := f.m.Handle(t.Context(), me, &client.Request{Op: op, Name: name, Secret: client.NewSecret(secret),
		Meta: &client.TokenMeta{Hosts: []string{"github.com"}, NoVerify: true, Expires: expires}})
	if r.Code != "" {
		t.Fatalf("%s %s: %s %s", op, name, r.Code, r.Error)
	}
}

func (f *fixture) grant(t *testing.T, spec client.GrantSpec) client.GrantInfo {
	t.Helper()
	r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpGrant, Grant: &spec})
	if r.Code != "" {
		t.Fatalf("grant %+v: %s %s", spec, r.Code, r.Error)
	}
	return r.Grants[0]
}

func get(host, path string) *client.Request {
	return &client.Request{Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: host, Path: path}}
}

func (f *fixture) auditLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// noCanary checks the audit log, the debug log and printed answers.
func (f *fixture) noCanary(t *testing.T, resps ...*client.Response) {
	t.Helper()
	b, _ := os.ReadFile(f.audit)
	if strings.Contains(string(b), "canary") {
		t.Errorf("audit log leaks a secret:\n%s", b)
	}
	for _, e := range f.logs.All() {
		if s := fmt.Sprintf("%s %v", e.Message, e.ContextMap()); strings.Contains(s, "canary") {
			t.Errorf("debug log leaks a secret: %s", s)
		}
	}
	for _, r := range resps {
		if r != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", r, r, r), "canary") {
			t.Errorf("printed answer leaks a secret: %+v", r)
		}
	}
}

func waitDone(t *testing.T, done <-chan struct{}) {
	t.Helper()
	if done == nil {
		t.Fatal("no such grant")
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("grant did not end within 30s")
	}
}

func TestSocketAnswersOnlyItsRepositories(t *testing.T) {
	f := newFixture(t)
	sock := filepath.Join(f.dir, "g.sock")
	g := f.grant(t, client.GrantSpec{Label: "ci", URLs: []string{"github.com/acme/app"}, Mode: client.GrantSocket, Path: sock})
	if g.Path != sock || g.Label != "ci" || len(g.UIDs) != 1 || g.UIDs[0] != os.Getuid() {
		t.Fatalf("grant = %+v", g)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("grant socket: %v, %v; want a socket with mode 0600", fi, err)
	}

	r, err := client.Call(sock, get("github.com", "acme/app.git"))
	if err != nil || r.Secret.Reveal() != canary || r.Username != agent.DefaultUsername {
		t.Fatalf("get acme/app = %+v, %v; want the token", r, err)
	}
	if r.Token != "" || r.Route != "" {
		t.Errorf("get told the sandbox the token's name or route: %+v", r)
	}
	resps := []*client.Response{r}

	refused := []struct {
		name string
		req  *client.Request
		code string
	}{
		{"another repository", get("github.com", "acme/other.git"), client.CodeDenied},
		{"another owner", get("github.com", "evil/app.git"), client.CodeDenied},
		{"no path", get("github.com", ""), client.CodeDenied},
		{"token by name", &client.Request{Op: client.OpToken, Name: "personal"}, client.CodeDenied},
		{"token by URL", &client.Request{Op: client.OpToken, Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app"}}, client.CodeDenied},
		{"list", &client.Request{Op: client.OpList}, client.CodeDenied},
		{"which", &client.Request{Op: client.OpWhich, Cred: &client.Credential{Protocol: "https", Host: "github.com"}}, client.CodeDenied},
		{"add", &client.Request{Op: client.OpAdd, Name: "evil", Meta: &client.TokenMeta{Hosts: []string{"github.com"}, NoVerify: true}, Secret: client.NewSecret("ghp_x")}, client.CodeDenied},
		{"rotate", &client.Request{Op: client.OpRotate, Name: "personal", Meta: &client.TokenMeta{NoVerify: true}, Secret: client.NewSecret("ghp_x")}, client.CodeDenied},
		{"remove", &client.Request{Op: client.OpRemove, Name: "personal"}, client.CodeDenied},
		{"unlock", &client.Request{Op: client.OpUnlock, Secret: client.NewSecret("pw")}, client.CodeDenied},
		{"lock", &client.Request{Op: client.OpLock}, client.CodeDenied},
		{"grant", &client.Request{Op: client.OpGrant, Grant: &client.GrantSpec{URLs: []string{"github.com/acme/other"}, Mode: client.GrantFile, Path: filepath.Join(f.dir, "stolen")}}, client.CodeDenied},
		{"grants", &client.Request{Op: client.OpGrants}, client.CodeDenied},
		{"revoke", &client.Request{Op: client.OpRevoke, Name: "ci"}, client.CodeDenied},
		{"get without credential", &client.Request{Op: client.OpGet}, client.CodeBadRequest},
	}
	for _, tc := range refused {
		r, err := client.Call(sock, tc.req)
		if !client.IsCode(err, tc.code) || !r.Secret.IsZero() {
			t.Errorf("%s: %+v, %v; want %s and no secret", tc.name, r, err, tc.code)
		}
		resps = append(resps, r)
	}

	// Nothing changed behind the grant: no new token, still unlocked, the
	// token kept, no second grant, no stolen file.
	l := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpList})
	if l.Code != "" || len(l.Tokens) != 1 || l.Tokens[0].Name != "personal" || l.Tokens[0].Masked != "ghp_****wxyz" {
		t.Fatalf("tokens after the refusals = %+v %s", l.Tokens, l.Error)
	}
	if gs := f.m.List(); len(gs) != 1 {
		t.Fatalf("grants after the refusals = %+v", gs)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "stolen")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a grant socket made a file grant: %v", err)
	}

	// ping tells the sandbox about its grant and nothing of the agent.
	p, err := client.Call(sock, &client.Request{Op: client.OpPing})
	if err != nil || p.Status == nil || p.Status.Locked || len(p.Grants) != 1 || p.Grants[0].Uses != 1 ||
		p.Status.Socket != "" || p.Status.AuditLog != "" || p.Grants[0].Path != "" {
		t.Fatalf("ping = %+v %+v, %v", p.Status, p.Grants, err)
	}

	// Every refusal is audited with the grant's label.
	lines := f.auditLines(t)
	for _, tc := range refused {
		want := `"decision":"denied"`
		if tc.code == client.CodeBadRequest {
			want = `"decision":"bad-request"`
		}
		found := false
		for _, l := range lines {
			if strings.Contains(l, `"op":"`+tc.req.Op+`"`) && strings.Contains(l, want) && strings.Contains(l, `"grant":"ci"`) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no audit line with op %s, %s and the grant's label:\n%s", tc.name, tc.req.Op, want, strings.Join(lines, "\n"))
		}
	}
	granted := 0
	for _, l := range lines {
		if strings.Contains(l, `"decision":"granted"`) && strings.Contains(l, `"grant":"ci"`) &&
			strings.Contains(l, `"path":"acme/app.git"`) && strings.Contains(l, `"token":"personal"`) {
			granted++
		}
	}
	if granted != 1 {
		t.Errorf("%d granted audit lines for the grant, want 1:\n%s", granted, strings.Join(lines, "\n"))
	}
	f.noCanary(t, resps...)
}

func TestSocketEndsAtExpiry(t *testing.T) {
	f := newFixture(t)
	sock := filepath.Join(f.dir, "g.sock")
	f.grant(t, client.GrantSpec{Label: "short", URLs: []string{"github.com/acme/app"}, TTL: 600, Mode: client.GrantSocket, Path: sock})
	done := f.m.Done("short")
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r, err := c.Do(get("github.com", "acme/app")); err != nil || r.Secret.Reveal() != canary {
		t.Fatalf("get before expiry = %+v, %v", r, err)
	}

	// At expiry the grant answers nothing, even before its socket is
	// closed: the clock decides, not the timer.
	f.advance(10 * time.Minute)
	if r, err := c.Do(get("github.com", "acme/app")); !client.IsCode(err, client.CodeDenied) || !r.Secret.IsZero() {
		t.Fatalf("get at expiry = %+v, %v; want denied", r, err)
	}
	f.m.Tick()
	waitDone(t, done)
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("grant socket still there after expiry: %v", err)
	}
	if _, err := client.Call(sock, get("github.com", "acme/app")); err == nil {
		t.Fatal("a client still reaches the grant after expiry")
	}
	if gs := f.m.List(); len(gs) != 0 {
		t.Fatalf("grants after expiry = %+v", gs)
	}
	b, _ := os.ReadFile(f.audit)
	if !strings.Contains(string(b), `"op":"grant","decision":"changed","reason":"ended: expired"`) {
		t.Fatalf("audit log lacks the end of the grant:\n%s", b)
	}
	f.noCanary(t)
}

func TestRevokeAndDefaultLocation(t *testing.T) {
	f := newFixture(t)
	g := f.grant(t, client.GrantSpec{URLs: []string{"https://github.com/acme/app.git"}, Mode: client.GrantSocket})
	if !strings.HasPrefix(g.Label, "app-") || g.Path != filepath.Join(f.dir, "grants", g.Label, "keyfob.sock") {
		t.Fatalf("grant with no label or path = %+v", g)
	}
	if fi, err := os.Stat(filepath.Dir(g.Path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("grant directory: %v, %v; want mode 0700", fi, err)
	}
	done := f.m.Done(g.Label)
	r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpRevoke, Name: g.Label})
	if r.Code != "" {
		t.Fatalf("revoke = %+v", r)
	}
	waitDone(t, done)
	if _, err := os.Lstat(filepath.Dir(g.Path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("grant directory still there after revoke: %v", err)
	}
	if r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpRevoke, Name: g.Label}); r.Code != client.CodeNotFound {
		t.Fatalf("second revoke = %+v, want not_found", r)
	}
}

func TestGrantRefusals(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		spec client.GrantSpec
		want string
	}{
		{"no url", client.GrantSpec{Mode: client.GrantSocket}, "at least one --url"},
		{"host only", client.GrantSpec{URLs: []string{"github.com"}, Mode: client.GrantSocket}, "names repositories"},
		{"owner only", client.GrantSpec{URLs: []string{"github.com/acme"}, Mode: client.GrantSocket}, "names repositories"},
		{"any owner", client.GrantSpec{URLs: []string{"github.com/*/app"}, Mode: client.GrantSocket}, "names repositories"},
		{"no token", client.GrantSpec{URLs: []string{"gitlab.com/acme/app"}, Mode: client.GrantSocket}, "no token for gitlab.com/acme/app"},
		{"too long", client.GrantSpec{URLs: []string{"github.com/acme/app"}, TTL: 8 * 24 * 3600, Mode: client.GrantSocket}, "want between"},
		{"bad label", client.GrantSpec{Label: "../x", URLs: []string{"github.com/acme/app"}, Mode: client.GrantSocket}, "label"},
		{"file with max uses", client.GrantSpec{URLs: []string{"github.com/acme/app"}, MaxUses: 2, Mode: client.GrantFile}, "max-uses"},
		{"file for an owner", client.GrantSpec{URLs: []string{"github.com/acme/*"}, Mode: client.GrantFile}, "whole repositories"},
		{"overflow uid", client.GrantSpec{URLs: []string{"github.com/acme/app"}, UIDs: []int{65534}, Mode: client.GrantSocket}, "overflow uid"},
		{"relative path", client.GrantSpec{URLs: []string{"github.com/acme/app"}, Mode: client.GrantSocket, Path: "x.sock"}, "not absolute"},
	} {
		r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpGrant, Grant: &tc.spec})
		if r.Code == "" || !strings.Contains(r.Error, tc.want) {
			t.Errorf("%s: %+v, want an error with %q", tc.name, r, tc.want)
		}
	}
	if gs := f.m.List(); len(gs) != 0 {
		t.Fatalf("grants after refusals = %+v", gs)
	}
}

// TestMaxUsesUnderConcurrency sends many gets at once; exactly MaxUses of
// them get the token, and the grant ends after the last.
func TestMaxUsesUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	const uses, clients = 3, 24
	sock := filepath.Join(f.dir, "g.sock")
	f.grant(t, client.GrantSpec{Label: "few", URLs: []string{"github.com/acme/app"}, MaxUses: uses, Mode: client.GrantSocket, Path: sock})
	done := f.m.Done("few")
	// Connect them all first, so every request reaches the grant.
	conns := make([]*client.Conn, clients)
	for i := range conns {
		c, err := client.Dial(sock)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	var wg sync.WaitGroup
	var served, denied, closed atomic.Int32
	start := make(chan struct{})
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := c.Do(get("github.com", "acme/app.git"))
			switch {
			case err == nil && r.Secret.Reveal() == canary:
				served.Add(1)
			case client.IsCode(err, client.CodeDenied):
				denied.Add(1)
			case err != nil:
				closed.Add(1) // the grant ended and closed the connection
			default:
				t.Errorf("get = %+v", r)
			}
		}()
	}
	close(start)
	wg.Wait()
	if served.Load() != uses || denied.Load()+closed.Load() != clients-uses {
		t.Fatalf("%d served, %d denied, %d closed; want exactly %d served", served.Load(), denied.Load(), closed.Load(), uses)
	}
	waitDone(t, done)
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("grant socket still there once used up: %v", err)
	}
	n := 0
	for _, l := range f.auditLines(t) {
		if strings.Contains(l, `"decision":"granted"`) && strings.Contains(l, `"grant":"few"`) {
			n++
		}
	}
	if n != uses {
		t.Fatalf("%d granted audit lines, want %d", n, uses)
	}
	f.noCanary(t)
}

func TestFileGrant(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "gh-token")
	g := f.grant(t, client.GrantSpec{Label: "job", URLs: []string{"github.com/acme/app"}, TTL: 600, Mode: client.GrantFile, Path: path})
	if g.Mode != client.GrantFile || g.Uses != 1 || !g.Refreshes.IsZero() {
		t.Fatalf("file grant = %+v", g)
	}
	done := f.m.Done("job")
	b, err := os.ReadFile(path)
	if err != nil || string(b) != canary {
		t.Fatalf("token file = %q, %v; want the token with no newline", b, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %04o, want 0600", fi.Mode().Perm())
	}

	// Created exclusively: an existing file is never overwritten, not even
	// by another grant.
	other := filepath.Join(f.dir, "mine")
	if err := os.WriteFile(other, []byte("the user's"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, other} {
		r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpGrant, Grant: &client.GrantSpec{URLs: []string{"github.com/acme/app"}, Mode: client.GrantFile, Path: p}})
		if r.Code != client.CodeBadRequest || !strings.Contains(r.Error, "exists") {
			t.Fatalf("grant over %s = %+v; want refused", p, r)
		}
	}
	if b, _ := os.ReadFile(other); string(b) != "the user's" {
		t.Fatalf("a grant overwrote an existing file: %q", b)
	}

	f.advance(10 * time.Minute)
	f.m.Tick()
	waitDone(t, done)
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token file still there after expiry: %v", err)
	}
	if _, err := os.Lstat(other); err != nil {
		t.Fatalf("the user's file went with the grant: %v", err)
	}
	f.noCanary(t)
}

// TestFileRefresh: a token that expires before the grant is replaced in the
// file before it expires, by the token the route gives then (here a
// rotation; an App installation token is minted anew on the same path).
func TestFileRefresh(t *testing.T) {
	f := newFixture(t)
	f.add(t, client.OpRotate, "personal", canary, f.clock().Add(20*time.Minute))
	g := f.grant(t, client.GrantSpec{Label: "job", URLs: []string{"github.com/acme/app"}, Mode: client.GrantFile})
	if g.Refreshes.IsZero() || !g.Refreshes.Before(f.clock().Add(20*time.Minute)) {
		t.Fatalf("file grant for a token expiring in 20m refreshes at %v", g.Refreshes)
	}
	if fi, err := os.Stat(filepath.Dir(g.Path)); err != nil || fi.Mode().Perm() != 0o700 || filepath.Base(g.Path) != "token" {
		t.Fatalf("default file grant at %s: %v %v", g.Path, fi, err)
	}
	before, _ := os.Stat(g.Path)

	// Nothing is due yet.
	f.m.Tick()
	if b, _ := os.ReadFile(g.Path); string(b) != canary {
		t.Fatalf("token file changed before its refresh time: %q", b)
	}
	// Due, but the route still gives the same token (as a cache does until
	// shortly before expiry): the file stays, and the grant asks again
	// later, before the token expires.
	f.now.Store(g.Refreshes.UnixNano())
	f.m.Tick()
	again := f.m.List()[0]
	if b, _ := os.ReadFile(g.Path); string(b) != canary || again.Uses != 1 ||
		!again.Refreshes.After(g.Refreshes) || !again.Refreshes.Before(f.clock().Add(5*time.Minute)) {
		t.Fatalf("refresh with the same token: file %q, grant %+v; want the file kept and a retry before expiry", b, again)
	}
	g = again
	f.add(t, client.OpRotate, "personal", canary2, f.clock().Add(2*time.Hour))
	f.now.Store(g.Refreshes.UnixNano())
	f.m.Tick()
	b, err := os.ReadFile(g.Path)
	if err != nil || string(b) != canary2 {
		t.Fatalf("token file after its refresh time = %q, %v; want the new token", b, err)
	}
	after, _ := os.Stat(g.Path)
	if os.SameFile(before, after) || after.Mode().Perm() != 0o600 {
		t.Fatalf("refresh did not rename a new 0600 file over the old one (mode %04o)", after.Mode().Perm())
	}
	gs := f.m.List()
	if len(gs) != 1 || gs[0].Uses != 2 || !gs[0].Refreshes.IsZero() {
		t.Fatalf("grant after refresh = %+v; want 2 writes and no refresh due (the new token outlives the grant)", gs)
	}
	entries, _ := os.ReadDir(filepath.Dir(g.Path))
	if len(entries) != 1 {
		t.Fatalf("grant directory holds %d entries after refresh, want 1", len(entries))
	}
	f.noCanary(t)
}

// TestCloseAndCrash: a stopping agent removes every grant's socket and
// file; a new agent removes what one that crashed left behind.
func TestCloseAndCrash(t *testing.T) {
	f := newFixture(t)
	sock := f.grant(t, client.GrantSpec{Label: "s", URLs: []string{"github.com/acme/app"}, Mode: client.GrantSocket}).Path
	file := f.grant(t, client.GrantSpec{Label: "f", URLs: []string{"github.com/acme/app"}, Mode: client.GrantFile, Path: filepath.Join(f.dir, "tok")}).Path

	// A second manager on the same directory plays the agent started after
	// a crash: the first never got to clean up.
	m2 := New(Config{Agent: f.a, Dir: filepath.Join(f.dir, "grants")})
	defer m2.Close()
	for _, p := range []string{sock, file} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind after a crash: %v", p, err)
		}
	}

	f2 := newFixture(t)
	sock = f2.grant(t, client.GrantSpec{Label: "s", URLs: []string{"github.com/acme/app"}, Mode: client.GrantSocket}).Path
	file = f2.grant(t, client.GrantSpec{Label: "f", URLs: []string{"github.com/acme/app"}, Mode: client.GrantFile, Path: filepath.Join(f2.dir, "tok")}).Path
	f2.m.Close()
	for _, p := range []string{sock, file, filepath.Dir(sock)} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after the agent stopped: %v", p, err)
		}
	}
	if r := f2.m.Handle(t.Context(), me, &client.Request{Op: client.OpGrant, Grant: &client.GrantSpec{URLs: []string{"github.com/acme/app"}, Mode: client.GrantSocket}}); r.Code != client.CodeUnavailable {
		t.Fatalf("grant after Close = %+v, want unavailable", r)
	}
}

// TestOtherUID runs a real process as a second uid against grant sockets:
// refused unless the grant names its uid. The sockets sit in a directory
// the other uid can search, so that the grant's uid check, not the
// filesystem, is what decides.
func TestOtherUID(t *testing.T) {
	u, err := user.Lookup("keyfobtest")
	if err != nil || os.Getuid() != 0 {
		t.Skip("second uid: needs root and the user keyfobtest (make deps creates both)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	f := newFixture(t)
	pub := filepath.Join(f.dir, "pub")
	if err := os.Mkdir(pub, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(f.dir, 0o755)
	bin := filepath.Join(pub, "peer")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(sock string, cred *syscall.Credential) string {
		cmd := exec.Command(bin)
		// The peer trusts our uid on this socket, as a container running as
		// another uid is told to (KEYFOB_SOCKET_UID): the grant's check at
		// accept, not the client's, is what decides here.
		cmd.Env = []string{"KEYFOB_TEST_PEER=" + sock, "KEYFOB_TEST_URL=github.com/acme/app", "DBUS_SESSION_BUS_ADDRESS=disabled:",
			"KEYFOB_SOCKET=" + sock, "KEYFOB_SOCKET_UID=" + strconv.Itoa(os.Getuid())}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("peer: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	other := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}

	// Our uid and someone else's, not keyfobtest: the socket is open to
	// connect (0666), and the uid check refuses keyfobtest.
	notIt := filepath.Join(pub, "a.sock")
	f.grant(t, client.GrantSpec{Label: "ours", URLs: []string{"github.com/acme/app"}, UIDs: []int{os.Getuid(), uid + 1}, Mode: client.GrantSocket, Path: notIt})
	if out := run(notIt, other); !strings.HasPrefix(out, "refused: ") {
		t.Fatalf("uid %d on a grant for other uids: %q, want refused", uid, out)
	}
	if out := run(notIt, nil); out != "served: the granted token" {
		t.Fatalf("own uid after a refusal: %q", out)
	}
	want := `"decision":"denied-peer","reason":"peer uid is not one the grant allows","peer_uid":` + u.Uid
	found := false
	for _, l := range f.auditLines(t) {
		found = found || strings.Contains(l, want) && strings.Contains(l, `"grant":"ours"`)
	}
	if !found {
		t.Fatalf("audit log lacks %s with the grant's label", want)
	}

	// The default, our uid only: the socket is 0600 as well.
	def := filepath.Join(pub, "b.sock")
	f.grant(t, client.GrantSpec{Label: "default", URLs: []string{"github.com/acme/app"}, Mode: client.GrantSocket, Path: def})
	if out := run(def, other); !strings.HasPrefix(out, "refused: ") {
		t.Fatalf("uid %d on a default grant: %q, want refused", uid, out)
	}

	// A grant that names keyfobtest serves it.
	named := filepath.Join(pub, "c.sock")
	f.grant(t, client.GrantSpec{Label: "theirs", URLs: []string{"github.com/acme/app"}, UIDs: []int{uid}, Mode: client.GrantSocket, Path: named})
	if out := run(named, other); out != "served: the granted token" {
		t.Fatalf("uid %d on a grant naming it: %q, want served", uid, out)
	}
	if out := run(named, nil); !strings.HasPrefix(out, "refused: ") {
		t.Fatalf("own uid on a grant naming only uid %d: %q, want refused", uid, out)
	}
	f.noCanary(t)
}

// TestMalformedOnGrantSocket: an unreadable request is audited with the
// grant's label and answered bad_request.
func TestMalformedOnGrantSocket(t *testing.T) {
	f := newFixture(t)
	sock := filepath.Join(f.dir, "g.sock")
	f.grant(t, client.GrantSpec{Label: "m", URLs: []string{"github.com/acme/app"}, Mode: client.GrantSocket, Path: sock})
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("garbage\n"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := client.ReadLine(bufio.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	r, err := client.DecodeResponse(line)
	if err != nil || r.Code != client.CodeBadRequest {
		t.Fatalf("answer = %+v, %v", r, err)
	}
	found := false
	for _, l := range f.auditLines(t) {
		found = found || strings.Contains(l, `"decision":"bad-request"`) && strings.Contains(l, `"grant":"m"`)
	}
	if !found {
		t.Fatal("no bad-request audit line with the grant's label")
	}
}

// TestAppBackedGrants: with a GitHub App route, a grant's tokens are
// installation tokens minted for the granted repository only, and a token
// file is rewritten with a fresh one before the one in it expires.
func TestAppBackedGrants(t *testing.T) {
	api := githubtest.NewServer()
	t.Cleanup(api.Close)
	api.SetTokenPrefix("canaryMINT")
	api.AddApp(101, &githubtest.Key(0).PublicKey)
	api.AddInstallation(githubtest.Installation{ID: 42, AppID: 101, Owner: "acme", Repos: []string{"app", "lib", "secret"}})
	f := newBareFixture(t, api.URL)
	api.SetClock(f.clock)
	r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpAppAdd, Name: "ci", App: &client.AppSpec{AppID: 101, InstallationID: 42},
		Secret: client.NewSecret(string(githubtest.KeyPEM(githubtest.Key(0))))})
	if r.Code != "" {
		t.Fatalf("app add: %s %s", r.Code, r.Error)
	}
	lastMint := func() githubtest.Mint {
		m := api.Mints()
		return m[len(m)-1]
	}

	g := f.grant(t, client.GrantSpec{Label: "job", URLs: []string{"github.com/acme/app"}, TTL: 2 * 3600, Mode: client.GrantFile})
	first, err := os.ReadFile(g.Path)
	if err != nil || lastMint().Token != string(first) || strings.Join(lastMint().Repositories, ",") != "app" {
		t.Fatalf("token file %v; last mint %+v; want an installation token for acme/app only", err, lastMint())
	}
	exp := lastMint().Expires
	if g.Refreshes.IsZero() || !g.Refreshes.Before(exp) {
		t.Fatalf("grant refreshes at %v, want before the token expires at %v", g.Refreshes, exp)
	}
	f.now.Store(g.Refreshes.UnixNano())
	f.m.Tick()
	second, err := os.ReadFile(g.Path)
	if err != nil || string(second) == string(first) || lastMint().Token != string(second) || strings.Join(lastMint().Repositories, ",") != "app" {
		t.Fatalf("token file after refresh: %v, changed %v; last mint %+v; want a new token for acme/app", err, string(second) != string(first), lastMint())
	}
	if gs := f.m.List(); len(gs) != 1 || gs[0].Uses != 2 || !gs[0].Refreshes.After(exp) {
		t.Fatalf("grant after refresh = %+v; want two writes and the next refresh after the first token's expiry", gs)
	}

	// A socket grant for two repositories: each get is a token for the one
	// repository asked about.
	sock := filepath.Join(f.dir, "g.sock")
	f.grant(t, client.GrantSpec{Label: "two", URLs: []string{"github.com/acme/app", "github.com/acme/lib"}, Mode: client.GrantSocket, Path: sock})
	lib, err := client.Call(sock, get("github.com", "acme/lib.git"))
	if err != nil || lastMint().Token != lib.Secret.Reveal() || strings.Join(lastMint().Repositories, ",") != "lib" {
		t.Fatalf("get acme/lib on the grant socket: %v; last mint %+v", err, lastMint())
	}
	n := len(api.Mints())
	if _, err := client.Call(sock, get("github.com", "acme/secret.git")); !client.IsCode(err, client.CodeDenied) || len(api.Mints()) != n {
		t.Fatalf("get acme/secret on the grant socket: %v, %d mints (was %d); want denied and nothing minted", err, len(api.Mints()), n)
	}
	f.noCanary(t, lib)
}

// A grant socket is made with its final mode, 0600, or 0666 when the grant
// names another uid, and never in a directory where another uid could
// replace it: one writable by group or others without the sticky bit.
func TestGrantSocketModeAndDirectory(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		label string
		uids  []int
		mode  os.FileMode // of the directory, os.ModeSticky included
		want  os.FileMode // of the socket; 0: refused
	}{
		{"own", nil, 0o700, 0o600},
		{"other", []int{os.Getuid(), os.Getuid() + 1}, 0o700, 0o666},
		{"sticky", nil, 0o777 | os.ModeSticky, 0o600},
		{"open", nil, 0o777, 0},
		{"group", nil, 0o770, 0},
	} {
		t.Run(tc.label, func(t *testing.T) {
			dir := filepath.Join(f.dir, "d-"+tc.label)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			sock := filepath.Join(dir, "g.sock")
			spec := client.GrantSpec{Label: tc.label, URLs: []string{"github.com/acme/app"}, UIDs: tc.uids, Mode: client.GrantSocket, Path: sock}
			r := f.m.Handle(t.Context(), me, &client.Request{Op: client.OpGrant, Grant: &spec})
			if tc.want == 0 {
				if r.Code != client.CodeUnavailable || !strings.Contains(r.Error, "no sticky bit") || !strings.Contains(r.Error, "chmod go-w "+dir) {
					t.Fatalf("grant in a %04o directory = %s %q; want unavailable, saying which chmod fixes it", tc.mode.Perm(), r.Code, r.Error)
				}
				if _, err := os.Lstat(sock); err == nil {
					t.Fatalf("a refused grant left %s", sock)
				}
				return
			}
			if r.Code != "" {
				t.Fatalf("grant: %s %s", r.Code, r.Error)
			}
			if fi, err := os.Lstat(sock); err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != tc.want {
				t.Fatalf("grant socket: %v, %v; want a socket with mode %04o", fi.Mode(), err, tc.want)
			}
		})
	}
}
