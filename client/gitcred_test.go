package client

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseGit(t *testing.T) {
	challenge := "Bearer realm=\"" + strings.Repeat("x", 40<<10) + "\""
	for _, tc := range []struct {
		name string
		in   string
		want GitAttrs
	}{
		{"basic", "protocol=https\nhost=github.com\npath=acme/app.git\n\n",
			GitAttrs{Protocol: "https", Host: "github.com", Path: "acme/app.git"}},
		{"unknown keys and wwwauth[] ignored", "protocol=https\nhost=github.com\nunknown=ignored\nwwwauth[]=Basic realm=\"x\"\n",
			GitAttrs{Protocol: "https", Host: "github.com"}},
		{"two 40 KB challenges", "capability[]=state\nprotocol=https\nhost=h\nwwwauth[]=" + challenge + "\nwwwauth[]=" + challenge + "\n\n",
			GitAttrs{Protocol: "https", Host: "h", Capabilities: []string{"state"}}},
		{"as git 2.55 sends it", "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=h\nusername=u\n" +
			"password_expiry_utc=1767225599\noauth_refresh_token=r\nwwwauth[]=Basic realm=\"GitHub\"\nstate[]=other:1\nstate[]=keyfob:x\nephemeral=1\nquit=1\n\n",
			GitAttrs{Protocol: "https", Host: "h", Username: "u", HasUsername: true, PasswordExpiryUTC: 1767225599,
				OAuthRefreshToken: NewSecret("r"), Capabilities: []string{"authtype", "state"}, State: []string{"other:1", "keyfob:x"}}},
		{"empty key[] clears the list", "capability[]=authtype\ncapability[]=state\nstate[]=a\nstate[]=\nprotocol=https\nhost=h\n",
			GitAttrs{Protocol: "https", Host: "h", Capabilities: []string{"authtype", "state"}}},
		{"stops at the blank line", "protocol=https\nhost=h\n\nhost=after-blank-line-ignored\n", GitAttrs{Protocol: "https", Host: "h"}},
		{"no final newline", "protocol=https\nhost=h", GitAttrs{Protocol: "https", Host: "h"}},
		{"CRLF", "protocol=https\r\nhost=h\r\nusername=u\r\n\r\nhost=after\r\n", GitAttrs{Protocol: "https", Host: "h", Username: "u", HasUsername: true}},
		{"value with = in it", "path=a=b\n", GitAttrs{Path: "a=b"}},
		{"empty username is a username", "protocol=https\nhost=h\nusername=\n", GitAttrs{Protocol: "https", Host: "h", HasUsername: true}},
		{"expiry", "password_expiry_utc=1767225599\n", GitAttrs{PasswordExpiryUTC: 1767225599}},
		{"unparsable expiry is none", "password_expiry_utc=soon\nhost=h\n", GitAttrs{Host: "h"}},
		{"zero expiry is none", "password_expiry_utc=0\n", GitAttrs{}},
		{"negative expiry is none", "password_expiry_utc=-5\n", GitAttrs{}},
		{"later expiry wins, even unparsable", "password_expiry_utc=5\npassword_expiry_utc=x\n", GitAttrs{}},
		{"quit is git's to read", "quit=1\nquit=true\nhost=h\n", GitAttrs{Host: "h"}},

		// url=, as git's credential_from_url reads it
		{"url", "url=https://alice@github.com/acme/app.git\n",
			GitAttrs{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: "alice", HasUsername: true}},
		{"url resets what came before", "capability[]=state\nstate[]=keyfob:x\nusername=bob\npath=p\npassword_expiry_utc=9\nurl=https://h\nusername=carol\n",
			GitAttrs{Protocol: "https", Host: "h", Username: "carol", HasUsername: true}},
		{"url with port, and slashes trimmed", "url=https://h:8443//a/b.git//\n", GitAttrs{Protocol: "https", Host: "h:8443", Path: "a/b.git"}},
		{"url percent-decoded, plus kept", "url=https://a%40b%3Ac+d@h%2Ex/o%20x/r+s.git\n",
			GitAttrs{Protocol: "https", Host: "h.x", Path: "o x/r+s.git", Username: "a@b:c+d", HasUsername: true}},
		{"url bad escape kept", "url=https://h/a%zz%4\n", GitAttrs{Protocol: "https", Host: "h", Path: "a%zz%4"}},
		{"url empty user", "url=https://@h/\n", GitAttrs{Protocol: "https", Host: "h", HasUsername: true}},
		{"url @ in the path is not a user", "url=https://h/a@b\n", GitAttrs{Protocol: "https", Host: "h", Path: "a@b"}},
		{"url colon after @ is the port", "url=https://u@h:1/\n", GitAttrs{Protocol: "https", Host: "h:1", Username: "u", HasUsername: true}},
		{"url query ends the host", "url=https://h?x=1\n", GitAttrs{Protocol: "https", Host: "h", Path: "?x=1"}},
		{"url with no host", "url=cert:///etc/cert.pem\n", GitAttrs{Protocol: "cert", Path: "etc/cert.pem"}},
		{"url path that decodes to a slash", "url=https://h/a%2F\n", GitAttrs{Protocol: "https", Host: "h", Path: "a"}},
	} {
		got, err := ParseGit(strings.NewReader(tc.in))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ParseGit(%.80q) = %+v, %v; want %+v", tc.name, tc.in, got, err, tc.want)
		}
	}
}

func TestParseGitURLPassword(t *testing.T) {
	got, err := ParseGit(strings.NewReader("url=https://u:p%3Aq@h/\n"))
	if err != nil || got.Password.Reveal() != "p:q" || got.Username != "u" || got.Host != "h" {
		t.Fatalf("ParseGit(url with password) = %+v, %v; want u, p:q, h", got, err)
	}
}

func TestParseGitRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"CR inside a value", "host=a\rb\n", "NUL or CR"},
		{"CR at end of input, no newline after it", "host=h\r", "NUL or CR"},
		{"two CRs", "host=h\r\r\n", "NUL or CR"},
		{"NUL", "host=a\x00b\n", "NUL or CR"},
		{"NUL in a key", "ho\x00st=a\n", "NUL or CR"},
		{"no =", "no equals sign\n", "key=value"},
		{"url without scheme", "url=github.com/a\n", "no scheme"},
		{"url with empty scheme", "url=://h\n", "no scheme"},
		{"url decoding to LF", "url=https://h/a%0Ab\n", "NUL, CR or LF"},
		{"url decoding to CR", "url=https://h%0d/\n", "NUL, CR or LF"},
		{"url decoding to NUL", "url=https://u%00@h/\n", "NUL, CR or LF"},
		{"line too long", "path=" + strings.Repeat("x", MaxGitLine-5) + "\n", "line exceeds 65535"},
		{"line too long, no newline", "path=" + strings.Repeat("x", MaxGitLine-5), "line exceeds 65535"},
		{"line too long, CRLF", "path=" + strings.Repeat("x", MaxGitLine-5) + "\r\n", "line exceeds 65535"},
		{"input too large", strings.Repeat("wwwauth[]="+strings.Repeat("x", 60000)+"\n", 18), "input exceeds"},
	} {
		got, err := ParseGit(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParseGit(%.40q) = %+v, %v; want an error saying %q", tc.name, tc.in, got, err, tc.want)
		}
	}
}

// A line of MaxGitLine bytes, its newline included, is read; a CR before
// the newline is not counted.
func TestParseGitLongestLine(t *testing.T) {
	path := strings.Repeat("x", MaxGitLine-len("path=\n"))
	for _, nl := range []string{"\n", "\r\n", ""} {
		got, err := ParseGit(strings.NewReader("path=" + path + nl))
		if err != nil || got.Path != path {
			t.Errorf("ParseGit(a %d-byte line ending %q) = %v; want it read", MaxGitLine, nl, err)
		}
	}
}

// ParseGit reads no further than the blank line: git may keep the pipe
// open, and what follows is not the helper's.
func TestParseGitStopsAtBlankLine(t *testing.T) {
	r := strings.NewReader("host=h\n\n" + strings.Repeat("x", 10*MaxGitInput))
	if _, err := ParseGit(r); err != nil {
		t.Fatalf("ParseGit = %v", err)
	}
}

func TestParseGitPassword(t *testing.T) {
	got, err := ParseGit(strings.NewReader("password=" + canary + "\r\n"))
	if err != nil || got.Password.Reveal() != canary {
		t.Fatalf("ParseGit(password) = %v, %v", got, err)
	}
}

func TestWriteGitEmptyUsername(t *testing.T) {
	for _, tc := range []struct {
		a    GitAttrs
		want string
	}{
		{GitAttrs{Host: "h", HasUsername: true}, "host=h\nusername=\n"},
		{GitAttrs{Host: "h"}, "host=h\n"},
	} {
		var b bytes.Buffer
		if err := WriteGit(&b, tc.a); err != nil || b.String() != tc.want {
			t.Errorf("WriteGit(%+v) = %q, %v; want %q", tc.a, b.String(), err, tc.want)
		}
	}
}

// FuzzParseGit: whatever parses writes back to the same attributes; input
// with CRLF line ends reads as with LF; and no input makes ParseGit hold
// more than its limits.
func FuzzParseGit(f *testing.F) {
	f.Add("protocol=https\nhost=github.com\npath=a/b.git\nusername=u\npassword=p\n\n")
	f.Add("capability[]=authtype\nwwwauth[]=Bearer\nstate[]=x\npassword_expiry_utc=5\nquit=1\n")
	f.Add("url=https://u:p@h:8443/x/y\n")
	f.Add("url=https://@h%2e/a%2F/\nusername=\n")
	f.Add("password_expiry_utc=soon\r\nhost=h\r\n\r\n")
	f.Add("username=\npassword=\noauth_refresh_token=xyzzy\n")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseGit(strings.NewReader(in))
		if !strings.ContainsRune(in, '\r') {
			b, berr := ParseGit(strings.NewReader(strings.ReplaceAll(in, "\n", "\r\n")))
			if (err == nil) != (berr == nil) || err == nil && !gitEqual(a, b) {
				t.Fatalf("CRLF changed ParseGit(%q): %+v, %v; then %+v, %v", in, a, err, b, berr)
			}
		}
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteGit(&buf, a); err != nil {
			t.Fatal(err)
		}
		b, err := ParseGit(&buf)
		if err != nil {
			t.Fatalf("ParseGit(WriteGit(%+v)) = %v", a, err)
		}
		if !gitEqual(a, b) {
			t.Fatalf("round trip changed %+v into %+v (wrote %q)", a, b, buf.String())
		}
	})
}

func TestWriteGitUnsafeNamesKey(t *testing.T) {
	err := WriteGit(&bytes.Buffer{}, GitAttrs{Host: "h\nx"})
	if !errors.Is(err, ErrUnsafeValue) || !strings.Contains(err.Error(), "host") || strings.Contains(err.Error(), "h\nx") {
		t.Fatalf("WriteGit(host with LF) = %v", err)
	}
}

// gitEqual compares attributes the way git's format can carry them: an
// empty value is the same as no attribute, except for an explicit empty
// username.
func gitEqual(a, b GitAttrs) bool {
	return a.Protocol == b.Protocol && a.Host == b.Host && a.Path == b.Path && a.Username == b.Username &&
		a.HasUsername == b.HasUsername && a.Password.Equal(b.Password) && a.PasswordExpiryUTC == b.PasswordExpiryUTC &&
		a.HasPassword == b.HasPassword && a.OAuthRefreshToken.Equal(b.OAuthRefreshToken) &&
		reflect.DeepEqual(nonEmpty(a.Capabilities), nonEmpty(b.Capabilities)) &&
		reflect.DeepEqual(nonEmpty(a.State), nonEmpty(b.State))
}

func nonEmpty(s []string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
