package doctor

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/policy"
)

// want is a finding expected: its level and check, and parts of its
// message and hint.
type want struct {
	level   Level
	check   string
	message string
	hint    string
}

func ok(check, msg string) want            { return want{OK, check, msg, ""} }
func problem(check, msg, hint string) want { return want{Problem, check, msg, hint} }

func match(t *testing.T, what string, got []Finding, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Errorf("%s = %d findings %+v, want %d", what, len(got), got, len(wants))
		return
	}
	for i, w := range wants {
		g := got[i]
		if g.Level != w.level || g.Check != w.check || !strings.Contains(g.Message, w.message) || !strings.Contains(g.Hint, w.hint) ||
			(w.level == OK && g.Hint != "") {
			t.Errorf("%s[%d] = %+v, want %+v", what, i, g, w)
		}
	}
}

func TestSocketDir(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []want
	}{
		{"missing", func(*testing.T, string) {}, nil},
		{"0700", func(t *testing.T, dir string) { mkdir(t, dir, 0o700) },
			[]want{ok(CheckSocket, "is private (0700, yours)")}},
		{"0755", func(t *testing.T, dir string) { mkdir(t, dir, 0o755) },
			[]want{problem(CheckSocket, "is mode 0755: group or others can reach", "chmod 700 ")}},
		{"a symlink", func(t *testing.T, dir string) {
			mkdir(t, dir+".real", 0o700)
			if err := os.Symlink(dir+".real", dir); err != nil {
				t.Fatal(err)
			}
		}, []want{problem(CheckSocket, "is not a directory (a symlink?)", "remove it and start the agent again")}},
		{"another uid's", func(t *testing.T, dir string) {
			u, err := user.Lookup("keyfobtest")
			if err != nil || os.Getuid() != 0 {
				t.Skip("a second uid: needs root and the user keyfobtest (make deps creates both)")
			}
			mkdir(t, dir, 0o700)
			uid, _ := strconv.Atoi(u.Uid)
			if err := os.Chown(dir, uid, -1); err != nil {
				t.Fatal(err)
			}
		}, []want{problem(CheckSocket, "belongs to uid", "remove it and start the agent again")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keyfob")
			tc.setup(t, dir)
			r := &report{}
			r.socketDir(dir)
			match(t, "socketDir", r.findings, tc.want)
			for _, f := range r.findings {
				if !strings.Contains(f.Message, dir) {
					t.Errorf("socketDir finding %q does not name %s", f.Message, dir)
				}
			}
		})
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

// fakeAgent answers status and list as an agent would.
func fakeAgent(status *client.Status, statusErr error, toks ...client.TokenInfo) func(string, *client.Request) (*client.Response, error) {
	return func(_ string, req *client.Request) (*client.Response, error) {
		switch req.Op {
		case client.OpStatus:
			return &client.Response{Status: status}, statusErr
		case client.OpList:
			return &client.Response{Tokens: toks}, nil
		}
		return nil, errors.New("unexpected op " + req.Op)
	}
}

func TestAgent(t *testing.T) {
	personal := client.TokenInfo{Name: "personal", Hosts: []string{"github.com"}, Username: "x-access-token"}
	for _, tc := range []struct {
		name     string
		call     func(string, *client.Request) (*client.Response, error)
		want     []want
		wantToks []policy.Token
	}{
		{"not running", fakeAgent(nil, errors.New("dial unix: connection refused")),
			[]want{problem(CheckAgent, "agent not running at /run/k/agent.sock", "keyfob serve")}, nil},
		{"untrusted", fakeAgent(nil, &client.UntrustedError{Problem: "the socket at x is served by uid 7", Fix: "remove it"}),
			[]want{problem(CheckAgent, "served by uid 7", "remove it")}, nil},
		{"waiting for a passphrase", fakeAgent(&client.Status{PID: 42, Locked: true, NeedsPass: true, LockError: "waiting for keyfob unlock"}, nil),
			[]want{problem(CheckAgent, "agent (pid 42) is locked: waiting for keyfob unlock", "keyfob unlock")}, nil},
		{"locked by keyfob lock", fakeAgent(&client.Status{PID: 42, Locked: true, LockError: "locked by keyfob lock"}, nil),
			[]want{problem(CheckAgent, "is locked: locked by keyfob lock", "keyfob unlock")}, nil},
		{"keychain unreachable", fakeAgent(&client.Status{PID: 42, Backend: "secret-service", Locked: true, LockError: "no session bus"}, nil),
			[]want{problem(CheckAgent, "keychain backend secret-service is not reachable: no session bus", "check KEYFOB_BACKEND")}, nil},
		{"keychain cannot be read", fakeAgent(&client.Status{PID: 42, Backend: "pass", Locked: true,
			LockError: "the pass keychain cannot be read: the pass store /s is not initialised (it has no .gpg-id)", LockHint: "create the store (pass init YOUR-GPG-KEY-ID), then keyfob unlock"}, nil),
			[]want{problem(CheckAgent, "keychain backend pass is not reachable: the pass keychain cannot be read: the pass store /s is not initialised", "pass init YOUR-GPG-KEY-ID")}, nil},
		{"pass key locked", fakeAgent(&client.Status{PID: 42, Backend: "pass", Locked: true, KeychainLocked: true,
			LockError: "the pass store's gpg key is locked", LockHint: "give gpg-agent the key's passphrase"}, nil),
			[]want{problem(CheckAgent, "agent (pid 42) is locked: the pass store's gpg key is locked", "give gpg-agent the key's passphrase")}, nil},
		{"unlocked, no tokens", fakeAgent(&client.Status{PID: 42, Backend: "file"}, nil),
			[]want{ok(CheckAgent, "agent pid 42 answers at /run/k/agent.sock: file backend, unlocked, 0 tokens"),
				problem(CheckAgent, "holds no tokens", "keyfob add NAME --host github.com")}, []policy.Token{}},
		{"unlocked, config refused", fakeAgent(&client.Status{PID: 42, Backend: "file", Tokens: 1, ConfigErr: "config.toml:3: syntax"}, nil, personal),
			[]want{ok(CheckAgent, "1 tokens"),
				problem(CheckConfig, "refused the config file and keeps its previous config: config.toml:3: syntax", "reloads it on save")},
			[]policy.Token{{Name: "personal", Hosts: []string{"github.com"}, Username: "x-access-token"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &report{}
			toks, _ := r.agent("/run/k/agent.sock", tc.call)
			match(t, "agent", r.findings, tc.want)
			if len(toks) != len(tc.wantToks) || (tc.wantToks == nil) != (toks == nil) {
				t.Fatalf("agent tokens = %+v, want %+v", toks, tc.wantToks)
			}
			for i := range toks {
				if toks[i].Name != tc.wantToks[i].Name || toks[i].Username != tc.wantToks[i].Username || strings.Join(toks[i].Hosts, ",") != strings.Join(tc.wantToks[i].Hosts, ",") {
					t.Errorf("agent tokens[%d] = %+v, want %+v", i, toks[i], tc.wantToks[i])
				}
			}
		})
	}
}

func TestConfig(t *testing.T) {
	personal := []policy.Token{{Name: "personal", Hosts: []string{"github.com"}}}
	const routes = "[[route]]\nmatch = \"github.com/acme/*\"\ntoken = \"personal\"\n"
	for _, tc := range []struct {
		name, file string // file "" is no file
		toks       []policy.Token
		want       []want
		routes     int
	}{
		{"no file", "", nil, []want{ok(CheckConfig, "no config file at ")}, 0},
		{"syntax error", "[[route]\n", nil, []want{problem(CheckConfig, "config.toml:2: syntax", "edit ")}, 0},
		{"unknown key", "[[route]]\nmatch = \"github.com\"\ntokn = \"x\"\n", nil, []want{problem(CheckConfig, `config.toml:3: unknown key "route.tokn"`, "edit "),
			problem(CheckConfig, "config.toml:1: route github.com: token is missing", "edit ")}, 0},
		{"loads, tokens unknown", routes, nil, []want{ok(CheckConfig, "loads: 1 routes")}, 1},
		{"loads, token there", routes, personal, []want{ok(CheckConfig, "loads: 1 routes")}, 1},
		{"loads, token missing", routes, []policy.Token{}, []want{ok(CheckConfig, "loads: 1 routes"),
			problem(CheckConfig, `config.toml:1: route github.com/acme/* names token "personal", which does not exist`, "add the token (keyfob add NAME --host H), or fix the route in ")}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if tc.file != "" {
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := &report{}
			got, _ := r.config(path, tc.toks)
			match(t, "config", r.findings, tc.want)
			if got.Len() != tc.routes {
				t.Errorf("config routes = %+v, want %d", got, tc.routes)
			}
			for _, f := range r.findings {
				if !strings.Contains(f.Message+f.Hint, path) {
					t.Errorf("config finding %+v does not name %s", f, path)
				}
			}
		})
	}
}

func TestUnits(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sock := "[Socket]\nListenStream=%t/keyfob/agent.sock\n"
	plain := filepath.Join(t.TempDir(), "keyfob")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []want
	}{
		{"none", nil, []want{ok(CheckUnits, "no systemd user units in ")}},
		{"only the service", map[string]string{"keyfob.service": "[Service]\nExecStart=" + exe + " serve\n"},
			[]want{problem(CheckUnits, "only one of keyfob.service and keyfob.socket", "keyfob setup systemd")}},
		{"only the socket", map[string]string{"keyfob.socket": sock},
			[]want{problem(CheckUnits, "only one of keyfob.service and keyfob.socket", "keyfob setup systemd")}},
		{"no ExecStart", map[string]string{"keyfob.socket": sock, "keyfob.service": "[Service]\nType=notify\n"},
			[]want{problem(CheckUnits, "keyfob.service: no ExecStart= line", "keyfob setup systemd")}},
		{"a missing keyfob", map[string]string{"keyfob.socket": sock, "keyfob.service": "[Service]\nExecStart=/nonexistent/keyfob serve\n"},
			[]want{problem(CheckUnits, "starts /nonexistent/keyfob, which is not an executable file", "--exe with the installed keyfob")}},
		{"a keyfob that is not executable", map[string]string{"keyfob.socket": sock, "keyfob.service": "[Service]\nExecStart=" + plain + " serve\n"},
			[]want{problem(CheckUnits, "starts "+plain+", which is not an executable file", "keyfob setup systemd")}},
		{"fine, with a prefix", map[string]string{"keyfob.socket": sock, "keyfob.service": "[Service]\n  ExecStart=-@" + exe + " keyfob serve\n"},
			[]want{ok(CheckUnits, "start "+exe)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := &report{}
			r.units(dir)
			match(t, "units", r.findings, tc.want)
		})
	}
}

// Run checks in order and finds every area; Problems counts.
func TestRun(t *testing.T) {
	gitHome(t, "")
	run := t.TempDir()
	mkdir(t, filepath.Join(run, "keyfob"), 0o700)
	state := filepath.Join(t.TempDir(), "state")
	mkdir(t, state, 0o700)
	got := Run(Options{
		Socket:     filepath.Join(run, "keyfob", "agent.sock"),
		ConfigPath: filepath.Join(t.TempDir(), "config.toml"),
		UnitDir:    t.TempDir(),
		Call:       fakeAgent(&client.Status{PID: 1, Backend: "file", Tokens: 1}, nil, client.TokenInfo{Name: "p", Hosts: []string{"GitHub.com"}}),
		Home:       t.TempDir(),
		Environ:    []string{},
		StateDir:   state,
	})
	match(t, "Run", got, []want{
		ok(CheckSocket, "is private"),
		ok(CheckAgent, "unlocked, 1 tokens"),
		ok(CheckConfig, "no config file"),
		problem(CheckGit, "git does not ask keyfob for https://github.com", "keyfob setup git --host https://github.com"),
		ok(CheckLeaks, "no plaintext tokens"),
		ok(CheckLeaks, "plain gh does not go through keyfob"),
		ok(CheckUnits, "no systemd user units"),
	})
	if n := Problems(got); n != 1 {
		t.Errorf("Problems = %d, want 1", n)
	}
}
