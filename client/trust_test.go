//go:build linux

package client

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeAgent is a listener of our own uid that records every byte each
// connection sends and answers every line with answer. It handles one
// connection at a time, in the order they arrived.
type fakeAgent struct {
	path  string
	l     *net.UnixListener
	got   chan []byte // one entry per connection, the marker's excluded
	ended chan struct{}
}

const endMarker = "keyfob-test-end\n"

func startFake(t *testing.T, path, answer string) *fakeAgent {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeAgent{path: path, l: l, got: make(chan []byte, 64), ended: make(chan struct{})}
	go func() {
		defer close(f.ended)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			var got bytes.Buffer
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadBytes('\n')
				if string(line) == endMarker {
					c.Close()
					return
				}
				got.Write(line)
				if err != nil {
					break
				}
				if answer != "" {
					c.Write([]byte(answer + "\n"))
				}
			}
			c.Close()
			f.got <- got.Bytes()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return f
}

// connections returns what each connection before this call sent. The
// listener takes connections in the order they came, so once it has seen
// the marker connection, every earlier one has been read to its end.
func (f *fakeAgent) connections(t *testing.T) [][]byte {
	t.Helper()
	c, err := net.Dial("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte(endMarker))
	c.Close()
	<-f.ended
	var out [][]byte
	for {
		select {
		case b := <-f.got:
			out = append(out, b)
		default:
			return out
		}
	}
}

func shortTemp(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "kfc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func otherUID(t *testing.T) (int, int) {
	t.Helper()
	u, err := user.Lookup("keyfobtest")
	if err != nil || os.Getuid() != 0 {
		t.Skip("a second uid: needs root and the user keyfobtest (make deps creates both)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

// On the default and the fallback socket path, a socket directory that is
// a symlink, another uid's, or open to others is refused before connect,
// even though our own listener serves the socket in it. An explicit
// KEYFOB_SOCKET at the same socket is checked by its peer uid only.
func TestSocketDirectoryChecks(t *testing.T) {
	for _, layout := range []string{"default", "fallback"} {
		for _, tc := range []struct {
			name  string
			setup func(t *testing.T, dir string)
			want  string
		}{
			{"symlink", func(t *testing.T, dir string) {
				real := filepath.Join(filepath.Dir(dir), "real")
				mustMkdir(t, real)
				if err := os.Symlink(real, dir); err != nil {
					t.Fatal(err)
				}
			}, "not a directory"},
			{"another uid's", func(t *testing.T, dir string) {
				uid, gid := otherUID(t)
				mustMkdir(t, dir)
				if err := os.Chown(dir, uid, gid); err != nil {
					t.Fatal(err)
				}
			}, "owned by uid"},
			{"mode 0755", func(t *testing.T, dir string) {
				mustMkdir(t, dir)
				if err := os.Chmod(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}, "mode 0755"},
		} {
			t.Run(layout+"/"+tc.name, func(t *testing.T) {
				base := shortTemp(t)
				t.Setenv("KEYFOB_SOCKET", "")
				var dir string
				if layout == "default" {
					t.Setenv("XDG_RUNTIME_DIR", base)
					dir = filepath.Join(base, "keyfob")
				} else {
					t.Setenv("XDG_RUNTIME_DIR", "")
					t.Setenv("TMPDIR", base)
					dir = filepath.Join(base, "keyfob-"+strconv.Itoa(os.Getuid()))
				}
				tc.setup(t, dir)
				path := SocketPath()
				if path != filepath.Join(dir, "agent.sock") {
					t.Fatalf("SocketPath() = %s, want it in %s", path, dir)
				}
				f := startFake(t, path, `{"v":1,"username":"x","secret":"ghp_fake"}`)

				_, err := Call(path, &Request{Op: OpPing})
				var ue *UntrustedError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
					t.Errorf("Call(ping) = %v, want an *UntrustedError naming %s and %q", err, dir, tc.want)
				}
				if ok, err := answers(path); ok || !errors.As(err, &ue) {
					t.Errorf("answers = %v, %v; want false and an *UntrustedError", ok, err)
				}
				if err := StartAgent(path); !errors.As(err, &ue) {
					t.Errorf("StartAgent = %v, want an *UntrustedError", err)
				}

				// The same socket named by KEYFOB_SOCKET: our uid serves it,
				// so the request goes through.
				t.Setenv("KEYFOB_SOCKET", path)
				if _, err := Call(SocketPath(), &Request{Op: OpPing}); err != nil {
					t.Errorf("Call(ping) with KEYFOB_SOCKET=%s = %v, want the fake's answer", path, err)
				}
				conns := f.connections(t)
				if len(conns) != 1 || !bytes.Contains(conns[0], []byte(`"op":"ping"`)) {
					t.Fatalf("the listener saw %q; want only the KEYFOB_SOCKET ping: nothing may connect through the refused directory", conns)
				}
			})
		}
	}
}

// A socket another uid serves is refused on every path, KEYFOB_SOCKET
// included, unless KEYFOB_SOCKET_UID names that uid; the overflow uid is
// refused always.
func TestCheckPeer(t *testing.T) {
	me := os.Getuid()
	other := me + 1
	if other == 65534 {
		other++
	}
	explicit := filepath.Join(shortTemp(t), "grant.sock")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/x")
	def := defaultSocketPath()
	for _, tc := range []struct {
		name      string
		path      string
		socketEnv string
		uidEnv    string
		uid       int
		want      string // "" accepts
	}{
		{"own uid, default path", def, "", "", me, ""},
		{"own uid, KEYFOB_SOCKET", explicit, explicit, "", me, ""},
		{"another uid, default path", def, "", "", other, "served by uid " + strconv.Itoa(other) + ", not you"},
		{"another uid, KEYFOB_SOCKET", explicit, explicit, "", other, "sets KEYFOB_SOCKET_UID"},
		{"another uid named by KEYFOB_SOCKET_UID", explicit, explicit, strconv.Itoa(other), other, ""},
		{"KEYFOB_SOCKET_UID names a third uid", explicit, explicit, strconv.Itoa(other + 1), other, "KEYFOB_SOCKET_UID says uid"},
		{"KEYFOB_SOCKET_UID without KEYFOB_SOCKET", def, "", strconv.Itoa(other), other, "served by uid"},
		{"KEYFOB_SOCKET_UID not a number", explicit, explicit, "me", other, "is not a uid"},
		{"overflow uid", explicit, explicit, "", 65534, "uid 65534, the overflow uid"},
		{"overflow uid named by KEYFOB_SOCKET_UID", explicit, explicit, "65534", 65534, "uid 65534, the overflow uid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KEYFOB_SOCKET", tc.socketEnv)
			t.Setenv(SocketUIDEnv, tc.uidEnv)
			err := checkPeer(tc.path, tc.uid)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("checkPeer(%s, %d) = %v, want nil", tc.path, tc.uid, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n")):
				t.Fatalf("checkPeer(%s, %d) = %v, want one line saying %q", tc.path, tc.uid, err, tc.want)
			}
		})
	}
}

// An answer whose values would split git's lines reaches git as nothing:
// the helper prints nothing on stdout and one error line on stderr.
func TestHelperRefusesLineBreaksInAnswer(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{
		{"LF in username", `{"v":1,"username":"x\npassword=evil","secret":"ghp_fake"}`},
		{"CR in username", `{"v":1,"username":"x\rpassword=evil","secret":"ghp_fake"}`},
		{"NUL in username", `{"v":1,"username":"x\u0000","secret":"ghp_fake"}`},
		{"LF in secret", `{"v":1,"username":"x-access-token","secret":"ghp_fake\nusername=evil"}`},
		{"CR in secret", `{"v":1,"username":"x-access-token","secret":"ghp_fake\r"}`},
		{"NUL in secret", `{"v":1,"username":"x-access-token","secret":"ghp\u0000fake"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(shortTemp(t), "agent.sock")
			t.Setenv("KEYFOB_SOCKET", sock)
			t.Setenv(AutostartEnv, "0")
			f := startFake(t, sock, tc.answer)
			var out, errb bytes.Buffer
			code := GitHelper([]string{"get"}, strings.NewReader("protocol=https\nhost=github.com\n\n"), &out, &errb)
			if code != 0 || out.Len() != 0 {
				t.Fatalf("GitHelper(get) = %d, stdout %q; want 0 and nothing", code, out.String())
			}
			if e := errb.String(); strings.Count(e, "\n") != 1 || !strings.HasPrefix(e, "keyfob: error: ") || strings.Contains(e, "evil") || strings.Contains(e, "ghp") {
				t.Fatalf("stderr = %q, want one keyfob: error: line without the values", e)
			}
			if conns := f.connections(t); len(conns) != 1 {
				t.Fatalf("the fake agent saw %d connections, want the helper's one", len(conns))
			}
		})
	}
}

func TestWriteGitRefusesLineBreaks(t *testing.T) {
	for _, a := range []GitAttrs{
		{Username: "u\n", Password: NewSecret("p")},
		{Username: "u", Password: NewSecret("p\r\n")},
		{Username: "u", Password: NewSecret("p\x00")},
		{Protocol: "https\nhost=evil", Username: "u", Password: NewSecret("p")},
		{Host: "h\n", Username: "u", Password: NewSecret("p")},
		{Path: "a\rb", Username: "u", Password: NewSecret("p")},
		{Capabilities: []string{"authtype\n"}, Password: NewSecret("p")},
		{Username: "", HasUsername: true, Password: NewSecret("p\n")},
		{State: []string{"s\x00"}, Password: NewSecret("p")},
	} {
		var out bytes.Buffer
		if err := WriteGit(&out, a); !errors.Is(err, ErrUnsafeValue) || out.Len() != 0 {
			t.Errorf("WriteGit(%+v) = %v, wrote %q; want ErrUnsafeValue and nothing", a, err, out.String())
		}
	}
	var out bytes.Buffer
	if err := WriteGit(&out, GitAttrs{Username: "u", Password: NewSecret("p"), PasswordExpiryUTC: 7}); err != nil || out.String() != "username=u\npassword=p\npassword_expiry_utc=7\n" {
		t.Errorf("WriteGit = %v, %q", err, out.String())
	}
}

func TestStateRoundTrip(t *testing.T) {
	for _, name := range []string{"ex", "gh:octocat@github.com", "a:b:c"} {
		fp := NewSecret("ghp_x").Fingerprint()
		got, gotFP, ok := ParseState(FormatState(name, fp))
		if !ok || got != name || gotFP != fp {
			t.Errorf("ParseState(FormatState(%q)) = %q, %q, %v", name, got, gotFP, ok)
		}
	}
	for _, v := range []string{"", "keyfob:", "keyfob:sha256:0123:ex", "keyfob:sha256:0123456789ab:", "keyfob:md5:0123456789abc:ex", "other:sha256:0123456789ab:ex"} {
		if _, _, ok := ParseState(v); ok {
			t.Errorf("ParseState(%q) accepted it", v)
		}
	}
	if got := OwnState([]string{"other:x", "keyfob:sha256:0123456789ab:ex"}); got != "keyfob:sha256:0123456789ab:ex" {
		t.Errorf("OwnState = %q", got)
	}
}
