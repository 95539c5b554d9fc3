package client

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParseGit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want GitAttrs
		bad  bool
	}{
		{in: "protocol=https\nhost=github.com\npath=acme/app.git\n\n",
			want: GitAttrs{Protocol: "https", Host: "github.com", Path: "acme/app.git"}},
		{in: "protocol=https\nhost=github.com\nunknown=ignored\nwwwauth[]=Basic realm=\"x\"\n",
			want: GitAttrs{Protocol: "https", Host: "github.com", WWWAuth: []string{`Basic realm="x"`}}},
		{in: "capability[]=authtype\ncapability[]=state\nstate[]=a\nstate[]=\nprotocol=https\nhost=h\n",
			want: GitAttrs{Protocol: "https", Host: "h", Capabilities: []string{"authtype", "state"}}},
		{in: "url=https://alice@github.com/acme/app.git\n",
			want: GitAttrs{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: "alice"}},
		{in: "protocol=https\nhost=h\n\nhost=after-blank-line-ignored\n",
			want: GitAttrs{Protocol: "https", Host: "h"}},
		{in: "protocol=https\nhost=h", want: GitAttrs{Protocol: "https", Host: "h"}},
		{in: "password_expiry_utc=1767225599\n", want: GitAttrs{PasswordExpiryUTC: 1767225599}},
		{in: "host=a\rb\n", bad: true},
		{in: "host=a\x00b\n", bad: true},
		{in: "no equals sign\n", bad: true},
		{in: "password_expiry_utc=soon\n", bad: true},
		{in: strings.Repeat("path=x\n", MaxGitInput/7+1), bad: true},
	} {
		got, err := ParseGit(strings.NewReader(tc.in))
		if tc.bad {
			if err == nil {
				t.Errorf("ParseGit(%.40q) = %+v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseGit(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseGitPassword(t *testing.T) {
	got, err := ParseGit(strings.NewReader("password=" + canary + "\n"))
	if err != nil || got.Password.Reveal() != canary {
		t.Fatalf("ParseGit(password) = %v, %v", got, err)
	}
}

// FuzzParseGit: whatever parses writes back to the same attributes.
func FuzzParseGit(f *testing.F) {
	f.Add("protocol=https\nhost=github.com\npath=a/b.git\nusername=u\npassword=p\n\n")
	f.Add("capability[]=authtype\nwwwauth[]=Bearer\nstate[]=x\npassword_expiry_utc=5\n")
	f.Add("url=https://u:p@h:8443/x/y\n")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseGit(strings.NewReader(in))
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

// gitEqual compares attributes the way git's format can carry them: an
// empty value is the same as no attribute.
func gitEqual(a, b GitAttrs) bool {
	return a.Protocol == b.Protocol && a.Host == b.Host && a.Path == b.Path && a.Username == b.Username &&
		a.Password.Equal(b.Password) && a.PasswordExpiryUTC == b.PasswordExpiryUTC &&
		reflect.DeepEqual(nonEmpty(a.Capabilities), nonEmpty(b.Capabilities)) &&
		reflect.DeepEqual(nonEmpty(a.WWWAuth), nonEmpty(b.WWWAuth)) && reflect.DeepEqual(nonEmpty(a.State), nonEmpty(b.State))
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
