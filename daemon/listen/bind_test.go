//go:build linux

package listen

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// watchDir watches dir and returns a function that reports, for each
// name in dir, the inotify events that arrived since. The kernel queues an
// event inside the system call that causes it, so after Unix returns its
// events are all there.
func watchDir(t *testing.T, dir string) func() map[string]uint32 {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_ALL_EVENTS); err != nil {
		t.Fatal(err)
	}
	return func() map[string]uint32 {
		got := map[string]uint32{}
		buf := make([]byte, 64<<10)
		for {
			n, err := syscall.Read(fd, buf)
			if err == syscall.EAGAIN {
				return got
			}
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off+syscall.SizeofInotifyEvent <= n; {
				ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
				name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
				got[string(bytes.TrimRight(name, "\x00"))] |= ev.Mask
				off += syscall.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}
}

// The socket is born with its mode: bind creates it 0600 (or 0666), and
// nothing changes its attributes afterwards, which a chmod by path would
// (IN_ATTRIB). The process's umask is what it was.
func TestSocketBornWithItsMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	for _, tc := range []struct {
		name string
		o    Options
		want os.FileMode
	}{
		{"agent socket", Options{}, 0o600},
		{"grant for another uid", Options{SkipDirCheck: true, Mode: 0o666}, 0o666},
		{"grant for our uid", Options{SkipDirCheck: true, Mode: 0o600}, 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(shortDir(t), "keyfob")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			events := watchDir(t, dir)
			path := filepath.Join(dir, "agent.sock")
			l, err := Unix(path, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			ev := events()["agent.sock"]
			if ev&syscall.IN_CREATE == 0 || ev&syscall.IN_ATTRIB != 0 {
				t.Errorf("inotify events on the socket: %#x; want IN_CREATE and no IN_ATTRIB (a chmod after bind)", ev)
			}
			fi, err := os.Lstat(path)
			if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != tc.want {
				t.Errorf("socket %s: %v, %v; want a socket of mode %04o", path, fi.Mode(), err, tc.want)
			}
			if now := syscall.Umask(0o022); now != 0o022 {
				t.Errorf("umask after Unix = %04o, want 0022", now)
			}
		})
	}
}

// No code outside tests changes a mode by path: a chmod after bind, or
// after any create, acts on whatever sits at the path by then.
func TestNoChmodByPath(t *testing.T) {
	root := filepath.Join("..", "..")
	banned := map[string]bool{"os.Chmod": true, "syscall.Chmod": true, "syscall.Fchmodat": true,
		"unix.Chmod": true, "unix.Fchmodat": true}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); ok && banned[pkg.Name+"."+sel.Sel.Name] {
				t.Errorf("%s: %s.%s: set the mode when the file is created (the umask for a bind)", fset.Position(call.Pos()), pkg.Name, sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The runtime directory that holds the socket's directory, and the
// directory of a socket at a path of the user's choice, must not let
// another uid replace what is in it.
func TestRefusesOpenRuntimeDir(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  os.FileMode // with os.ModeSticky for the sticky bit
		owner string      // "" is ours
		want  string      // "" accepts
	}{
		{"world-writable", 0o777, "", "no sticky bit"},
		{"group-writable", 0o770, "", "no sticky bit"},
		{"sticky like /tmp", 0o777 | os.ModeSticky, "", ""},
		{"private", 0o700, "", ""},
		{"another uid's", 0o755, "keyfobtest", "owned by uid"},
	} {
		for _, skip := range []bool{false, true} {
			t.Run(tc.name+"/skipdircheck="+strconv.FormatBool(skip), func(t *testing.T) {
				run := filepath.Join(shortDir(t), "run")
				if err := os.Mkdir(run, 0o700); err != nil {
					t.Fatal(err)
				}
				if tc.owner != "" {
					u, err := user.Lookup(tc.owner)
					if err != nil || os.Getuid() != 0 {
						t.Skip("a second uid: needs root and the user keyfobtest (make deps creates both)")
					}
					uid, _ := strconv.Atoi(u.Uid)
					if err := os.Chown(run, uid, -1); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Chmod(run, tc.mode); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(run, "keyfob", "agent.sock")
				if skip {
					path = filepath.Join(run, "grant.sock")
				}
				l, err := Unix(path, Options{SkipDirCheck: skip})
				if tc.want == "" {
					if err != nil {
						t.Fatalf("Unix(%s) = %v, want it to listen", path, err)
					}
					l.Close()
					return
				}
				if err == nil {
					l.Close()
					t.Fatalf("Unix(%s) listened; want it refused (%s)", path, tc.want)
				}
				if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, run) || strings.Contains(msg, "\n") {
					t.Fatalf("Unix(%s) = %v, want one line naming %s and saying %q", path, err, run, tc.want)
				}
				if tc.owner == "" && !strings.Contains(err.Error(), "chmod go-w "+run) {
					t.Fatalf("Unix(%s) = %v, want the chmod that fixes it", path, err)
				}
				if _, serr := os.Lstat(filepath.Dir(path)); !skip && serr == nil {
					t.Errorf("Unix created %s in a directory it refused", filepath.Dir(path))
				}
			})
		}
	}
}
