package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/audit"
	"github.com/keyfob/keyfob/daemon/github"
	"github.com/keyfob/keyfob/daemon/github/githubtest"
)

// TestStoreEraseActOnlyOnTheTokenGiven sends git's store and erase the way
// a hostile peer would: with keyfob's password fingerprint but another
// host, another username, or plain http. None may mark the token, and none
// may send it to any API: the fake APIs record every request.
func TestStoreEraseActOnlyOnTheTokenGiven(t *testing.T) {
	gh, evil := githubtest.NewServer(), githubtest.NewServer()
	defer gh.Close()
	defer evil.Close()
	gh.AddToken(canary, githubtest.Account{Login: "octocat"})
	evil.AddToken(canary, githubtest.Account{Login: "octocat"})

	f := newFixture(t)
	f.a.cfg.GitHubAPI = gh.URL
	f.a.SetGitHubHosts([]github.Host{{Name: "ghe.evil.example", API: evil.URL}})
	f.add(t, "personal", canary, "github.com")
	before := len(gh.Requests())
	fp := client.NewSecret(canary).Fingerprint()

	for _, tc := range []struct {
		name string
		c    client.Credential
	}{
		{"a host outside the allowlist", client.Credential{Protocol: "https", Host: "ghe.evil.example", Path: "acme/app.git", Username: DefaultUsername, PasswordFP: fp}},
		{"another username", client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: "mallory", PasswordFP: fp}},
		{"no username", client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git", PasswordFP: fp}},
		{"another password", client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: DefaultUsername, PasswordFP: client.NewSecret("ghp_other").Fingerprint()}},
		{"plain http to github.com", client.Credential{Protocol: "http", Host: "github.com", Path: "acme/app.git", Username: DefaultUsername, PasswordFP: fp}},
		{"a path trick", client.Credential{Protocol: "https", Host: "github.com", Path: "acme/../x", Username: DefaultUsername, PasswordFP: fp}},
	} {
		c := tc.c
		r := f.do(t, &client.Request{Op: client.OpErase, Cred: &c})
		if r.Code != "" || len(r.Warnings) != 0 {
			t.Errorf("erase with %s = %+v, want a quiet no-op", tc.name, r)
		}
		f.a.Wait()
		if st := f.do(t, &client.Request{Op: client.OpList}).Tokens[0].State; st == StateSuspect || st == StateInvalid {
			t.Errorf("erase with %s marked the token %s", tc.name, st)
		}
		c = tc.c
		f.do(t, &client.Request{Op: client.OpStore, Cred: &c})
	}
	if n := len(evil.Requests()); n != 0 {
		t.Errorf("the API of a host outside the allowlist saw %d requests: %+v", n, evil.Requests())
	}
	if reqs := gh.Requests(); len(reqs) != before {
		t.Errorf("github.com's API saw %d requests after add, want none: %+v", len(reqs)-before, reqs[before:])
	}
	if r := f.do(t, get("github.com", "acme/app.git")); r.Secret.Reveal() != canary {
		t.Fatalf("token no longer served after foreign erases: %+v", r)
	}
	b, _ := os.ReadFile(f.audit)
	if !strings.Contains(string(b), `"username":"mallory"`) || !strings.Contains(string(b), "not a keyfob token for this host and username") {
		t.Errorf("audit log lacks the foreign erase with its username:\n%s", b)
	}

	// git's own erase, for the token it was given, re-validates against
	// the token's own API only.
	r := f.do(t, &client.Request{Op: client.OpErase, Cred: &client.Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: DefaultUsername, PasswordFP: fp}})
	if len(r.Warnings) != 1 {
		t.Fatalf("git's erase = %+v, want a warning", r)
	}
	f.a.Wait()
	if reqs := gh.Requests(); len(reqs) == before || reqs[before].Path != "/user" || reqs[before].TokenFP != fp {
		t.Errorf("after git's erase, github.com's API saw %+v, want GET /user with the token", reqs[before:])
	}
	if n := len(evil.Requests()); n != 0 {
		t.Errorf("the other API saw %d requests", n)
	}
	f.noCanary(t)
}

// TestStoredValuesHoldNoControlCharacters: nothing that reaches git's
// stream may carry CR, LF or NUL, so none can be stored.
func TestStoredValuesHoldNoControlCharacters(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		req  *client.Request
	}{
		{"username with LF", &client.Request{Op: client.OpAdd, Name: "a", Secret: client.NewSecret(canary), Meta: &client.TokenMeta{Hosts: []string{"github.com"}, Username: "x\npassword=evil"}}},
		{"username with CR", &client.Request{Op: client.OpAdd, Name: "a", Secret: client.NewSecret(canary), Meta: &client.TokenMeta{Hosts: []string{"github.com"}, Username: "x\r"}}},
		{"username with NUL", &client.Request{Op: client.OpAdd, Name: "a", Secret: client.NewSecret(canary), Meta: &client.TokenMeta{Hosts: []string{"github.com"}, Username: "x\x00y"}}},
		{"host with LF", &client.Request{Op: client.OpAdd, Name: "a", Secret: client.NewSecret(canary), Meta: &client.TokenMeta{Hosts: []string{"github.com\nhost=evil"}}}},
		{"name with LF", &client.Request{Op: client.OpAdd, Name: "a\nb", Secret: client.NewSecret(canary), Meta: &client.TokenMeta{Hosts: []string{"github.com"}}}},
		{"token with LF", &client.Request{Op: client.OpAdd, Name: "a", Secret: client.NewSecret(canary + "\nusername=evil"), Meta: &client.TokenMeta{Hosts: []string{"github.com"}}}},
		{"token with NUL", &client.Request{Op: client.OpAdd, Name: "a", Secret: client.NewSecret("ghp_x\x00y"), Meta: &client.TokenMeta{Hosts: []string{"github.com"}}}},
		{"app host with CR", &client.Request{Op: client.OpAppAdd, Name: "a", Secret: client.NewSecret("-----BEGIN RSA PRIVATE KEY-----\n"), App: &client.AppSpec{AppID: 1, InstallationID: 2, Hosts: []string{"github.com\r"}}}},
		{"app owner with LF", &client.Request{Op: client.OpAppAdd, Name: "a", Secret: client.NewSecret("-----BEGIN RSA PRIVATE KEY-----\n"), App: &client.AppSpec{AppID: 1, Owner: "acme\nx"}}},
	} {
		r := f.do(t, tc.req)
		if r.Code != client.CodeBadRequest || strings.Contains(r.Error, "\n") || !strings.Contains(r.Error, "invalid") && !strings.Contains(r.Error, "control character") {
			t.Errorf("%s: %s = %q %q, want bad_request on one line", tc.name, tc.req.Op, r.Code, r.Error)
		}
	}
	f.add(t, "good", canary, "github.com")
	if r := f.do(t, &client.Request{Op: client.OpRotate, Name: "good", Secret: client.NewSecret("ghp_new\r\n")}); r.Code != client.CodeBadRequest {
		t.Errorf("rotate to a token with CR LF = %+v, want bad_request", r)
	}
	if l := f.do(t, &client.Request{Op: client.OpList}); len(l.Tokens) != 1 || l.Tokens[0].Name != "good" || len(l.Apps) != 0 {
		t.Errorf("after the refusals: %+v %+v, want only good", l.Tokens, l.Apps)
	}
	f.noCanary(t)
}

// TestNothingChangesUnaudited puts the audit log on a full tmpfs and the
// keychain on another, and tries every change: none may reach the keychain
// or memory, and each answer says why.
func TestNothingChangesUnaudited(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to mount the two small tmpfs (mount -t tmpfs)")
	}
	dir := t.TempDir()
	state, keys := filepath.Join(dir, "state"), filepath.Join(dir, "keys")
	for _, d := range []string{state, keys} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", d).CombinedOutput(); err != nil {
			t.Fatalf("mount -t tmpfs %s: %v: %s", d, err, out)
		}
		t.Cleanup(func() { _ = exec.Command("umount", "-l", d).Run() })
	}
	alog, err := audit.Open(filepath.Join(state, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer alog.Close()
	a := New(Config{Backend: "file", Dir: keys, Passphrase: client.NewSecret("pw"), Audit: alog, Log: zap.NewNop(),
		Now: func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }})
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	do := func(req *client.Request) *client.Response { return a.Handle(t.Context(), me, req) }
	add := func(name string) *client.Response {
		return do(&client.Request{Op: client.OpAdd, Name: name, Secret: client.NewSecret(canary), Meta: &client.TokenMeta{Hosts: []string{"127.0.0.1"}}})
	}
	if r := add("kept"); r.Code != "" {
		t.Fatalf("add before the disk fills: %+v", r)
	}
	items := func() []string {
		ents, _ := os.ReadDir(keys)
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out
	}
	keysBefore := strings.Join(items(), " ")

	// Fill the audit tmpfs to the last byte. tmpfs hands out whole pages,
	// so first pad the audit log to a page boundary with a line of its
	// own; else the next line fits in its last page.
	logf, err := os.OpenFile(filepath.Join(state, "audit.log"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := logf.Stat()
	pad := 4096 - int(fi.Size()%4096)
	if pad < 32 {
		pad += 4096
	}
	line := `{"op":"test-pad","reason":"` + strings.Repeat("x", pad-len(`{"op":"test-pad","reason":""}`)-1) + `"}` + "\n"
	if _, err := logf.WriteString(line); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	fill, err := os.Create(filepath.Join(state, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := fill.Write(buf); err != nil {
			break
		}
	}
	for {
		if _, err := fill.Write(buf[:1]); err != nil {
			break
		}
	}
	fill.Close()

	for _, tc := range []struct {
		name string
		req  *client.Request
	}{
		{"add", &client.Request{Op: client.OpAdd, Name: "new", Secret: client.NewSecret(canary), Meta: &client.TokenMeta{Hosts: []string{"127.0.0.1"}}}},
		{"rotate", &client.Request{Op: client.OpRotate, Name: "kept", Secret: client.NewSecret("ghp_rotated0000000000000000000000000")}},
		{"remove", &client.Request{Op: client.OpRemove, Name: "kept"}},
		{"erase mark", &client.Request{Op: client.OpErase, Cred: &client.Credential{Protocol: "http", Host: "127.0.0.1", Username: DefaultUsername, PasswordFP: client.NewSecret(canary).Fingerprint()}}},
		{"get", get("127.0.0.1", "")},
	} {
		r := do(tc.req)
		if tc.req.Op == client.OpErase {
			if k := a.vault.Snapshot().Tokens["kept"]; k.Meta.RejectedAt != "" || k.Suspect.Load() {
				t.Errorf("%s changed the token unaudited", tc.name)
			}
			continue
		}
		if r.Code != client.CodeUnavailable || !strings.Contains(r.Error, "audit log cannot be written") || !r.Secret.IsZero() {
			t.Errorf("%s with a full audit disk = %q %q, want unavailable naming the audit log", tc.name, r.Code, r.Error)
		}
	}
	if got := strings.Join(items(), " "); got != keysBefore {
		t.Errorf("keychain changed unaudited: %q, was %q", got, keysBefore)
	}
	toks := a.vault.Snapshot().Tokens
	if e := toks["kept"]; e == nil || secretOf(e) != canary || toks["new"] != nil {
		t.Errorf("memory changed unaudited: %v", toks)
	}
	if r := do(&client.Request{Op: client.OpUnlock, Secret: client.NewSecret("pw")}); r.Code != client.CodeUnavailable {
		t.Errorf("unlock with a full audit disk = %+v, want unavailable", r)
	}
	// Lock still locks: dropping the secrets is the safe direction.
	do(&client.Request{Op: client.OpLock})
	if !a.vault.Snapshot().Locked() || len(a.vault.Snapshot().Tokens) != 0 {
		t.Error("lock with a full audit disk kept the tokens")
	}
	if r := do(&client.Request{Op: client.OpUnlock, Secret: client.NewSecret("pw")}); r.Code != client.CodeUnavailable || !a.vault.Snapshot().Locked() {
		t.Errorf("unlock with a full audit disk = %+v, want unavailable and still locked", r)
	}

	// Space again: everything works, and the keychain held what it had.
	os.Remove(filepath.Join(state, "fill"))
	if r := do(&client.Request{Op: client.OpUnlock, Secret: client.NewSecret("pw")}); r.Code != "" || r.Status.Tokens != 1 {
		t.Fatalf("unlock after space returns = %+v", r)
	}
	if r := add("new"); r.Code != "" {
		t.Fatalf("add after space returns = %+v", r)
	}
}

// TestUnknownOpBounded: an unknown op is refused, and what is audited of
// it is cut short, however long the peer made it.
func TestUnknownOpBounded(t *testing.T) {
	f := newFixture(t)
	op := strings.Repeat("A", 60000)
	r := f.do(t, &client.Request{Op: op})
	if r.Code != client.CodeBadRequest || len(r.Error) > 100 {
		t.Fatalf("unknown op = %q (%d bytes of error), want a short bad_request", r.Code, len(r.Error))
	}
	b, _ := os.ReadFile(f.audit)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, `"decision":"bad-request"`) || len(last) > 1024 {
		t.Errorf("audit line for an unknown op (%d bytes) = %.200s…", len(last), last)
	}
}
