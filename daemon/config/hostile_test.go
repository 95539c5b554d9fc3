package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// loadOrHang runs Load in a goroutine and fails the test if it has not
// returned after 10s: it detects a hang, it does not time anything.
func loadOrHang(t *testing.T, path string) (*Config, error) {
	t.Helper()
	type result struct {
		c   *Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := Load(path)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.c, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("Load(%q) has not returned after 10s", path)
		return nil, nil
	}
}

// TestLoadRefusesHostileFiles points the config at things that are not a
// config: each is refused at once with one line that names the path and
// says what to do, and none is read.
func TestLoadRefusesHostileFiles(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, dir string) string
		want error
		msg  string
	}{
		{"fifo", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "config.toml")
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, ErrNotRegular, "not a regular file (a FIFO); replace it with a regular file or point KEYFOB_CONFIG at one"},
		{"fifo behind a symlink", func(t *testing.T, dir string) string {
			fifo := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "config.toml")
			if err := os.Symlink(fifo, p); err != nil {
				t.Fatal(err)
			}
			return p
		}, ErrNotRegular, "(a FIFO)"},
		{"dev zero", func(t *testing.T, dir string) string { return "/dev/zero" },
			ErrNotRegular, "not a regular file (a character device)"},
		{"dev zero behind a symlink", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "config.toml")
			if err := os.Symlink("/dev/zero", p); err != nil {
				t.Fatal(err)
			}
			return p
		}, ErrNotRegular, "(a character device)"},
		{"directory", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "config.toml")
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			return p
		}, ErrNotRegular, "(a directory)"},
		{"socket", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "config.toml")
			l, err := net.Listen("unix", p)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return p
		}, ErrNotRegular, "(a socket)"},
		{"symlink loop", func(t *testing.T, dir string) string {
			a, b := filepath.Join(dir, "config.toml"), filepath.Join(dir, "other.toml")
			if err := os.Symlink(b, a); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(a, b); err != nil {
				t.Fatal(err)
			}
			return a
		}, syscall.ELOOP, "a symlink loop; fix the link or point KEYFOB_CONFIG at a regular file"},
		{"2 MiB", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "config.toml")
			b := bytes.Repeat([]byte("# a comment that goes on and on\n"), 2<<20/32)
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, ErrTooLarge, "larger than 1 MiB"},
		{"10 MB of brackets", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "config.toml")
			b := append([]byte("a = "), bytes.Repeat([]byte("["), 10_000_000)...)
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, ErrTooLarge, "larger than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.make(t, t.TempDir())
			c, err := loadOrHang(t, path)
			if err == nil {
				t.Fatalf("Load(%q) = %+v, nil; want an error", path, c)
			}
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, tt.want) || fe.Path != path {
				t.Errorf("Load(%q) = %#v, want a *FileError for %s wrapping %v", path, err, path, tt.want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "config "+path+": ") || !strings.Contains(msg, tt.msg) {
				t.Errorf("Load(%q) error = %q, want one line starting %q containing %q", path, msg, "config "+path+": ", tt.msg)
			}
		})
	}
}

// TestLoadFollowsSymlinks: a dotfile symlinked to a regular file loads.
func TestLoadFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "keyfob.toml")
	if err := os.Mkdir(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("[[route]]\nmatch = \"github.com\"\ntoken = \"personal\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.toml")
	if err := os.Symlink(real, path); err != nil {
		t.Fatal(err)
	}
	c, err := loadOrHang(t, path)
	if err != nil || c.Table.Len() != 1 || c.Table.Routes()[0].Token != "personal" {
		t.Fatalf("Load(%q) = %+v, %v; want the route of %s", path, c, err, real)
	}
}

// TestLoadRefusesDeepNesting: files well under MaxSize that nest without
// end are refused with the line, before the TOML decoder sees them, and
// refusing them allocates little. Given to the decoder, each takes a
// hundred megabytes or more (a gigabyte for 1 MiB of "[").
func TestLoadRefusesDeepNesting(t *testing.T) {
	fill := func(prefix, unit, suffix string, n int) []byte {
		return []byte(prefix + strings.Repeat(unit, n) + suffix)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"arrays", fill("[[route]]\nmatch = \"github.com\"\ntoken = \"p\"\n\nx = ", "[", "", 100_000)},
		{"inline tables", fill("[[route]]\nmatch = \"github.com\"\ntoken = \"p\"\n\nx = ", "{a=", "", 2000)},
		{"dotted key", fill("[[route]]\nmatch = \"github.com\"\ntoken = \"p\"\n\n", "a.", "a = 1\n", 3000)},
		{"table header", fill("[[route]]\nmatch = \"github.com\"\ntoken = \"p\"\n\n[", "a.", "a]\n", 3000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.toml")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := loadOrHang(t, path)
			runtime.ReadMemStats(&after)
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), path+":5: syntax: nested deeper than 32 levels") || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load(%q) = %v, want one line %s:5: syntax: nested deeper than 32 levels", path, err, path)
			}
			// The file itself is 1 MiB, read once; the decoder would take
			// hundreds of times that.
			if got := after.TotalAlloc - before.TotalAlloc; got > 16*MaxSize {
				t.Errorf("Load(%q) allocated %d MiB, want at most %d", path, got>>20, 16)
			}
		})
	}
}

func TestTooDeep(t *testing.T) {
	deep := func(n int) string { return "x = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n" }
	tests := []struct {
		name string
		src  string
		line int
	}{
		{"a real config", "[[route]]\nmatch = \"github.com\"\ntoken = \"ci-bot\"\npermissions = { contents = \"read\", metadata = \"read\" }\nrequire_repo = true\n", 0},
		{"32 levels", deep(32), 0},
		{"33 levels", deep(33), 1},
		{"on its line", "# one\n\n" + deep(33), 3},
		{"a dotted key with 32 dots", strings.Repeat("a.", 32) + "a = 1\n", 0},
		{"a dotted key with 33 dots", strings.Repeat("a.", 33) + "a = 1\n", 1},
		{"a dotted key in an inline table adds up", "x = " + strings.Repeat("{", 31) + "a.b.c = 1\n", 1},
		{"dots in floats do not add up", "x = [" + strings.Repeat("1.5, ", 100) + "]\n", 0},
		{"brackets in strings", `x = "` + strings.Repeat("[{", 100) + `"` + "\ny = '" + strings.Repeat("[", 100) + "'\n", 0},
		{"escaped quote", `x = "\"` + strings.Repeat("[", 100) + `"` + "\n", 0},
		{"brackets in comments", "# " + strings.Repeat("[", 100) + "\n", 0},
		{"brackets in multi-line strings", "x = \"\"\"\n" + strings.Repeat("[", 100) + "\n\"\"\"\ny = '''\n" + strings.Repeat("{", 100) + "'''\n", 0},
		{"lines counted in multi-line strings", "x = \"\"\"\n\n\"\"\"\n" + deep(33), 4},
		{"an unclosed string ends at its line", "x = \"" + strings.Repeat("[", 100) + "\n" + deep(33), 2},
		{"closers do not go below zero", strings.Repeat("]", 100) + deep(33), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tooDeep([]byte(tt.src), MaxDepth); got != tt.line {
				t.Errorf("tooDeep(%.60q) = %d, want %d", tt.src, got, tt.line)
			}
		})
	}
}

// TestParseBoundsRoutes: more than MaxRoutes routes are refused before
// they are checked for ties, which takes time with the square of their
// number (a 1 MiB file of routes took 18s).
func TestParseBoundsRoutes(t *testing.T) {
	routes := func(n int) []byte {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "[[route]]\nmatch = \"github.com/o%d/*\"\ntoken = \"t%d\"\n", i, i)
		}
		return []byte(b.String())
	}
	if c, err := Parse("c.toml", routes(MaxRoutes)); err != nil || c.Table.Len() != MaxRoutes {
		t.Fatalf("Parse(%d routes) = %v, want them all", MaxRoutes, err)
	}
	_, err := Parse("c.toml", routes(2*MaxRoutes))
	want := fmt.Sprintf("c.toml:%d: more than %d routes", 3*MaxRoutes+1, MaxRoutes)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Parse(%d routes) = %v, want %s", 2*MaxRoutes, err, want)
	}
}

// TestErrorBounded: an Error's message, which status carries over the
// socket, stays short however many problems there are and however long
// they are; Problems keeps them all.
func TestErrorBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`"x` + strings.Repeat("é", 60_000) + "\" = 1\n")
	for range 30 {
		b.WriteString("[[route]]\ntoken = \"t\"\n")
	}
	_, err := Parse("c.toml", []byte(b.String()))
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 31 {
		t.Fatalf("Parse = %v, want 31 problems", err)
	}
	msg := err.Error()
	if len(msg) > 8<<10 || !utf8.ValidString(msg) || strings.Contains(msg, "\n") {
		t.Errorf("Error() is %d bytes (valid UTF-8 %v), want one line of at most 8 KiB", len(msg), utf8.ValidString(msg))
	}
	if !strings.HasPrefix(msg, `c.toml:1: unknown key`) || !strings.Contains(msg, "é…; ") || !strings.HasSuffix(msg, "; and 21 more (keyfob doctor lists them)") {
		t.Errorf("Error() = %.200q … %q, want the long key cut and 21 more counted", msg, msg[max(0, len(msg)-60):])
	}
}

// A config another uid can change is refused, with the file or directory
// to fix: the config decides where tokens are sent (routes, and the API a
// host's tokens go to), so whoever can write it could send them anywhere.
func TestLoadRefusesAConfigOthersCanChange(t *testing.T) {
	good := "[[route]]\nmatch = \"github.com\"\ntoken = \"personal\"\n"
	write := func(t *testing.T, path string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(t *testing.T, dir string, mode os.FileMode) string {
		t.Helper()
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	tests := []struct {
		name string
		make func(t *testing.T, dir string) string
		msg  string // "" when the config is read
	}{
		{"group-writable file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "config.toml")
			write(t, p, 0o664)
			return p
		}, "config DIR/config.toml can be written by group or others (mode 0664), and the config decides where tokens are sent; run chmod go-w DIR/config.toml"},
		{"world-writable file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "config.toml")
			write(t, p, 0o646)
			return p
		}, "(mode 0646)"},
		{"world-writable directory", func(t *testing.T, dir string) string {
			p := filepath.Join(mkdir(t, filepath.Join(dir, "keyfob"), 0o777), "config.toml")
			write(t, p, 0o600)
			return p
		}, "config DIR/keyfob/config.toml: directory DIR/keyfob can be written by group or others (mode 0777), and the config decides where tokens are sent; run chmod go-w DIR/keyfob"},
		{"a symlink to a file in a group-writable directory", func(t *testing.T, dir string) string {
			real := filepath.Join(mkdir(t, filepath.Join(dir, "shared"), 0o775), "keyfob.toml")
			write(t, real, 0o644)
			p := filepath.Join(dir, "config.toml")
			if err := os.Symlink(real, p); err != nil {
				t.Fatal(err)
			}
			return p
		}, "directory DIR/shared can be written by group or others (mode 0775)"},
		{"a sticky world-writable directory, as /tmp", func(t *testing.T, dir string) string {
			p := filepath.Join(mkdir(t, filepath.Join(dir, "tmp"), 0o777|os.ModeSticky), "config.toml")
			write(t, p, 0o644)
			return p
		}, ""},
		{"owned by another uid", func(t *testing.T, dir string) string {
			u, err := user.Lookup("keyfobtest")
			if err != nil || os.Getuid() != 0 {
				t.Skip("a second uid: needs root and the user keyfobtest (make deps creates both)")
			}
			uid, _ := strconv.Atoi(u.Uid)
			p := filepath.Join(dir, "config.toml")
			write(t, p, 0o644)
			if err := os.Chown(p, uid, -1); err != nil {
				t.Fatal(err)
			}
			return p
		}, "is owned by uid "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.make(t, dir)
			c, err := loadOrHang(t, path)
			if tt.msg == "" {
				if err != nil || c.Table.Len() != 1 {
					t.Fatalf("Load = %+v, %v; want its route", c, err)
				}
				return
			}
			msg := strings.ReplaceAll(tt.msg, "DIR", dir)
			var fe *FileError
			if !errors.As(err, &fe) || !errors.Is(err, ErrNotPrivate) || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Load = %+v, %v; want a one-line refusal saying %q", c, err, msg)
			}
		})
	}
}
