package main

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// These tests squat the agent's socket with a real process of another uid,
// and run the real helper and CLI against it: nothing may reach the
// squatter, and nothing the squatter says may reach git.

const (
	squatEnv    = "KEYFOB_TEST_SQUAT"        // the socket path to listen on
	squatLogEnv = "KEYFOB_TEST_SQUAT_LOG"    // where every byte received goes
	squatAnsEnv = "KEYFOB_TEST_SQUAT_ANSWER" // the answer to every line, if any
	squatEnd    = "keyfob-test-squat-end\n"
	squatCanary = "ghp_canarySQUATTED00000000000000000wxyz"
	squatPass   = "canary passphrase SQUATTED"
)

// squat is the squatter: it listens on $KEYFOB_TEST_SQUAT, says "ready" on
// stdout, and takes one connection at a time, in the order they came,
// appending every byte it receives to $KEYFOB_TEST_SQUAT_LOG and answering
// every line with $KEYFOB_TEST_SQUAT_ANSWER. It exits at a connection that
// sends squatEnd, so by then every earlier connection has been read to its
// end.
func squat() int {
	l, err := net.Listen("unix", os.Getenv(squatEnv))
	if err != nil {
		os.Stdout.WriteString("listen: " + err.Error() + "\n")
		return 1
	}
	logf, err := os.OpenFile(os.Getenv(squatLogEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		os.Stdout.WriteString("log: " + err.Error() + "\n")
		return 1
	}
	defer logf.Close()
	answer := os.Getenv(squatAnsEnv)
	os.Stdout.WriteString("ready\n")
	for {
		c, err := l.Accept()
		if err != nil {
			return 1
		}
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadBytes('\n')
			if string(line) == squatEnd {
				return 0
			}
			logf.Write(line)
			if err != nil {
				break
			}
			if answer != "" {
				c.Write([]byte(answer + "\n"))
			}
		}
		c.Close()
	}
}

type squatter struct {
	sock string
	log  string
	cmd  *exec.Cmd
}

func secondUID(t *testing.T) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup("keyfobtest")
	if err != nil || os.Getuid() != 0 {
		t.Skip("a second uid: needs root and the user keyfobtest (make deps creates both)")
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// testBin copies this test binary into a directory every uid can reach, as
// keyfob, with git-credential-keyfob beside it; TestMain runs either
// command by its name.
func testBin(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "keyfob"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("keyfob", filepath.Join(bin, "git-credential-keyfob")); err != nil {
		t.Fatal(err)
	}
	return bin
}

// startSquatter runs the squatter as uid, listening on sock, writing its
// log in logDir (which uid must be able to write).
func startSquatter(t *testing.T, bin, sock, logDir, answer string, uid, gid int) *squatter {
	t.Helper()
	s := &squatter{sock: sock, log: filepath.Join(logDir, "received")}
	s.cmd = exec.Command(filepath.Join(bin, "keyfob"))
	s.cmd.Env = []string{squatEnv + "=" + sock, squatLogEnv + "=" + s.log, squatAnsEnv + "=" + answer, "DBUS_SESSION_BUS_ADDRESS=disabled:"}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("squatter as uid %d: %q", uid, line)
	}
	return s
}

// received ends the squatter and returns every byte it was sent.
func (s *squatter) received(t *testing.T) []byte {
	t.Helper()
	c, err := net.Dial("unix", s.sock)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte(squatEnd))
	c.Close()
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("squatter: %v", err)
	}
	b, err := os.ReadFile(s.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b
}

type ran struct {
	code           int
	stdout, stderr string
}

func runBin(t *testing.T, exe string, env []string, stdin string, args ...string) ran {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return ran{code, out.String(), errb.String()}
}

// TestSquattedSocket: a process of another uid listens where the client
// looks for the agent. The helper's get, keyfob add (a canary token on
// stdin) and keyfob unlock (a canary passphrase) must send it nothing, print
// nothing on stdout, and say why in one line on stderr, even when the
// squatter answers with a credential and asks for the passphrase.
func TestSquattedSocket(t *testing.T) {
	uid, gid := secondUID(t)
	base, err := os.MkdirTemp("", "kfsq")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil { // the squatter must reach its directory
		t.Fatal(err)
	}
	bin := testBin(t, base)
	me := strconv.Itoa(os.Getuid())
	answer := `{"v":1,"username":"x-access-token","secret":"ghp_fromTheSquatter0000000000000000000","status":{"locked":true,"needs_passphrase":true},"tokens":[{"name":"t","masked":"ghp_****wxyz"}]}`

	// theirs makes a directory owned by the squatter's uid, mode 0700.
	theirs := func(p string) string {
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
		return p
	}
	n := 0
	for _, tc := range []struct {
		name string
		// layout sets up the squatter; it returns the client's extra
		// environment.
		layout func(t *testing.T, dir, answer string) (*squatter, []string)
		answer string
		want   string
	}{
		{"fallback directory made by another uid", func(t *testing.T, dir, answer string) (*squatter, []string) {
			sdir := theirs(filepath.Join(dir, "keyfob-"+me))
			s := startSquatter(t, bin, filepath.Join(sdir, "agent.sock"), sdir, answer, uid, gid)
			return s, []string{"TMPDIR=" + dir}
		}, "", "is owned by uid " + strconv.Itoa(uid) + ", not you"},
		{"fallback directory made by another uid, answering", func(t *testing.T, dir, answer string) (*squatter, []string) {
			sdir := theirs(filepath.Join(dir, "keyfob-"+me))
			s := startSquatter(t, bin, filepath.Join(sdir, "agent.sock"), sdir, answer, uid, gid)
			return s, []string{"TMPDIR=" + dir}
		}, answer, "is owned by uid " + strconv.Itoa(uid) + ", not you"},
		{"our 0700 directory, another uid's socket", func(t *testing.T, dir, answer string) (*squatter, []string) {
			sdir := theirs(filepath.Join(dir, "sq"))
			s := startSquatter(t, bin, filepath.Join(sdir, "agent.sock"), sdir, answer, uid, gid)
			run := filepath.Join(dir, "run")
			if err := os.MkdirAll(filepath.Join(run, "keyfob"), 0o700); err != nil {
				t.Fatal(err)
			}
			// Renamed into our directory, the socket is still the
			// squatter's: only the peer's uid tells.
			s.sock = filepath.Join(run, "keyfob", "agent.sock")
			if err := os.Rename(filepath.Join(sdir, "agent.sock"), s.sock); err != nil {
				t.Fatal(err)
			}
			return s, []string{"XDG_RUNTIME_DIR=" + run}
		}, answer, "is served by uid " + strconv.Itoa(uid) + ", not you (uid " + me + ")"},
		{"KEYFOB_SOCKET served by another uid", func(t *testing.T, dir, answer string) (*squatter, []string) {
			sdir := theirs(filepath.Join(dir, "sq"))
			s := startSquatter(t, bin, filepath.Join(sdir, "agent.sock"), sdir, answer, uid, gid)
			return s, []string{"KEYFOB_SOCKET=" + s.sock}
		}, answer, "is served by uid " + strconv.Itoa(uid) + ", not you (uid " + me + ")"},
		{"KEYFOB_SOCKET_UID naming a third uid", func(t *testing.T, dir, answer string) (*squatter, []string) {
			sdir := theirs(filepath.Join(dir, "sq"))
			s := startSquatter(t, bin, filepath.Join(sdir, "agent.sock"), sdir, answer, uid, gid)
			return s, []string{"KEYFOB_SOCKET=" + s.sock, "KEYFOB_SOCKET_UID=" + strconv.Itoa(uid+1)}
		}, answer, "is served by uid " + strconv.Itoa(uid)},
	} {
		n++
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(base, strconv.Itoa(n))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			home := filepath.Join(dir, "home")
			s, extra := tc.layout(t, dir, tc.answer)
			env := append([]string{
				"PATH=" + os.Getenv("PATH"),
				"HOME=" + home,
				"TMPDIR=" + dir,
				"XDG_STATE_HOME=" + filepath.Join(home, ".local/state"),
				"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
				"KEYFOB_AUTOSTART=0",
				"DBUS_SESSION_BUS_ADDRESS=disabled:",
			}, extra...)

			runs := map[string]ran{
				"git-credential-keyfob get": runBin(t, filepath.Join(bin, "git-credential-keyfob"), env, "protocol=https\nhost=github.com\n\n", "get"),
				"keyfob add":                runBin(t, filepath.Join(bin, "keyfob"), env, squatCanary+"\n", "add", "canary", "--host", "github.com", "--no-verify"),
				"keyfob rotate":             runBin(t, filepath.Join(bin, "keyfob"), env, squatCanary+"\n", "rotate", "canary"),
				"keyfob unlock":             runBin(t, filepath.Join(bin, "keyfob"), env, squatPass+"\n", "unlock"),
			}
			got := s.received(t)
			if len(got) != 0 {
				t.Errorf("the squatter received %d bytes: %q", len(got), got)
			}
			for name, r := range runs {
				wantCode := 1
				if strings.HasPrefix(name, "git-credential-keyfob") {
					wantCode = 0 // no credential: git asks its next helper
				}
				if r.code != wantCode || r.stdout != "" {
					t.Errorf("%s = exit %d, stdout %q; want %d and nothing", name, r.code, r.stdout, wantCode)
				}
				if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "keyfob: error: ") ||
					!strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "refusing to talk to it") {
					t.Errorf("%s: stderr %q; want one keyfob: error: line saying %q", name, r.stderr, tc.want)
				}
			}
		})
	}
}

// keyfob serve refuses a socket whose directories another uid could write:
// KEYFOB_SOCKET in a world-writable directory, or a runtime directory that
// is world-writable without the sticky bit.
func TestServeRefusesOpenDirectories(t *testing.T) {
	base, err := os.MkdirTemp("", "kfsv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	bin := testBin(t, base)
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(base, "home")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + base,
		"XDG_STATE_HOME=" + filepath.Join(home, ".local/state"), "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"KEYFOB_BACKEND=file", "KEYFOB_FILE_PASSPHRASE=pw", "DBUS_SESSION_BUS_ADDRESS=disabled:"}
	for _, tc := range []struct {
		name string
		env  string
		want string
	}{
		{"KEYFOB_SOCKET directly in it", "KEYFOB_SOCKET=" + filepath.Join(open, "agent.sock"), "chmod 700 " + open},
		{"KEYFOB_SOCKET in a directory in it", "KEYFOB_SOCKET=" + filepath.Join(open, "keyfob", "agent.sock"), "chmod go-w " + open},
		{"XDG_RUNTIME_DIR", "XDG_RUNTIME_DIR=" + open, "chmod go-w " + open},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, filepath.Join(bin, "keyfob"), append(env, tc.env), "", "serve")
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "keyfob: error: ") || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("keyfob serve with %s = exit %d, stderr %q; want 1 and one error line saying %q", tc.env, r.code, r.stderr, tc.want)
			}
			entries, _ := os.ReadDir(open)
			if len(entries) != 0 {
				t.Fatalf("keyfob serve left %v in %s", entries, open)
			}
		})
	}
}
