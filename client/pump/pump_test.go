package pump

import (
	"bytes"
	"strings"
	"testing"
)

func TestReadGit(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"protocol=https\r\nhost=github.com\n\nhost=after\n", "protocol=https\nhost=github.com\n", ""},
		{"protocol=https\nwwwauth[]=Basic realm=x\nauthtype=Bearer\nhost=h", "protocol=https\nhost=h\n", ""},
		{"url=https://u:p@h/p\ncapability[]=state\nstate[]=keyfob:x\npassword_expiry_utc=1\noauth_refresh_token=r\n",
			"url=https://u:p@h/p\ncapability[]=state\nstate[]=keyfob:x\npassword_expiry_utc=1\noauth_refresh_token=r\n", ""},
		{"", "", ""},
		{"\n", "", ""},
		{"host=h\r", "", "contains NUL or CR"},
		{"host=h\x00\n", "", "contains NUL or CR"},
		{"wwwauth[]=a\rb\n", "", "contains NUL or CR"},
		{"no equals\n", "", "want key=value"},
		{"host=" + strings.Repeat("a", MaxGitLine-5) + "\n", "", "exceeds 65535"},
		{"host=" + strings.Repeat("a", MaxGitLine-6) + "\r\n", "host=" + strings.Repeat("a", MaxGitLine-6) + "\n", ""},
		{strings.Repeat("wwwauth[]="+strings.Repeat("a", 60000)+"\n", 18), "", "input exceeds"},
	} {
		got, err := ReadGit(strings.NewReader(tc.in))
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ReadGit(%.40q) = %v, want an error saying %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || string(got) != tc.want):
			t.Errorf("ReadGit(%.40q) = %.60q, %v; want %.60q", tc.in, got, err, tc.want)
		}
	}
}

// ReadGit stops at the blank line: it does not wait for the end of input.
func TestReadGitStopsAtTheBlankLine(t *testing.T) {
	r := &oneShot{b: []byte("protocol=https\nhost=h\n\n")}
	got, err := ReadGit(r)
	if err != nil || string(got) != "protocol=https\nhost=h\n" {
		t.Fatalf("ReadGit = %q, %v", got, err)
	}
}

// oneShot gives its bytes once, then fails the test by blocking never:
// a second Read is an error.
type oneShot struct {
	b    []byte
	read bool
}

func (o *oneShot) Read(p []byte) (int, error) {
	if o.read {
		panic("ReadGit read past the blank line")
	}
	o.read = true
	return copy(p, o.b), nil
}

func TestServes(t *testing.T) {
	for in, want := range map[string]bool{
		"protocol=https\nhost=github.com\n":             true,
		"protocol=http\nhost=127.0.0.1:8080\n":          true,
		"protocol=cert\npath=/c.p12\n":                  false,
		"protocol=https\n":                              false,
		"host=github.com\n":                             false,
		"url=https://github.com/o/r\n":                  true,
		"url=https://user@github.com\n":                 true,
		"url=https://user@/x\n":                         false,
		"protocol=https\nhost=h\nurl=smtp://mail\n":     false,
		"url=smtp://mail\nprotocol=https\nhost=h\n":     true,
		"url=nonsense\n":                                true, // the agent says why
		"url=https://%0a@h\n":                           true, // the agent decides
		"protocol=https\nhost=github.com\nhost=\n":      false,
		"protocol=ssh\nhost=github.com\n":               false,
		"protocol=HTTPS\nhost=github.com\n":             false,
		"capability[]=state\nurl=https://h.example\n":   true,
		"protocol=https\nhost=github.com\nusername=u\n": true,
	} {
		if got := serves([]byte(in)); got != want {
			t.Errorf("serves(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	b := AppendOut(nil, []byte("username=u\npassword=p\n"))
	b = AppendErr(b, SayWarning+"two\nlines")
	b = AppendExit(b, 0)
	a, err := ParseAnswer(b)
	if err != nil || string(a.Out) != "username=u\npassword=p\n" || string(a.Err) != "keyfob: warning: two lines\n" || a.Status != 0 {
		t.Fatalf("ParseAnswer = %q %q %d, %v", a.Out, a.Err, a.Status, err)
	}
	if _, err := ParseAnswer([]byte("o a=b\n")); err != ErrShortAnswer {
		t.Fatalf("ParseAnswer of a cut answer = %v, want ErrShortAnswer", err)
	}
	if _, err := ParseAnswer([]byte("x 0\no a=b\n")); err == nil {
		t.Fatal("ParseAnswer accepted lines after the end")
	}
}

func FuzzReadGit(f *testing.F) {
	f.Add([]byte("protocol=https\r\nhost=github.com\nwwwauth[]=x\n\nmore"))
	f.Add([]byte("url=https://u:p@h/p\ncapability[]=state\n"))
	f.Add([]byte("a\x00=b\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := ReadGit(bytes.NewReader(in))
		if err != nil {
			return
		}
		// What ReadGit returns is git's lines as it reads them: reading
		// them again changes nothing.
		again, err := ReadGit(bytes.NewReader(got))
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("ReadGit(ReadGit(%q)) = %q, %v; want %q", in, again, err, got)
		}
		for _, line := range bytes.SplitAfter(got, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if _, ok := CheckGitLine(line[:len(line)-1]); !ok || line[len(line)-1] != '\n' {
				t.Fatalf("ReadGit(%q) returned the line %q", in, line)
			}
		}
		serves(got)
	})
}

func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte("o username=u\no password=p\ne keyfob: hint: h\nx 0\n"))
	f.Add([]byte("x 1\n"))
	f.Add([]byte("o a\rb=c\nx 0\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := ParseAnswer(bytes.Clone(in))
		if err != nil {
			return
		}
		if bytes.ContainsAny(a.Out, "\x00\r") || bytes.ContainsAny(a.Err, "\x00\r") {
			t.Fatalf("ParseAnswer(%q) passed a NUL or CR", in)
		}
		// Framed again, it reads back the same.
		b := AppendOut(nil, a.Out)
		for _, l := range bytes.SplitAfter(a.Err, []byte("\n")) {
			if len(l) > 0 {
				b = AppendErr(b, string(l[:len(l)-1]))
			}
		}
		b = AppendExit(b, a.Status)
		back, err := ParseAnswer(b)
		if err != nil || !bytes.Equal(back.Out, a.Out) || !bytes.Equal(back.Err, a.Err) || back.Status != a.Status {
			t.Fatalf("ParseAnswer(%q) = %+v, framed again %q reads %+v, %v", in, a, b, back, err)
		}
	})
}
