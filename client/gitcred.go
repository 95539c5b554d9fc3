package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/keyfob/keyfob/client/pump"
)

// GitAttrs holds the attributes of git's credential protocol
// (git-credential(1)) that keyfob reads or writes. Others are ignored, as
// git asks of a helper: wwwauth[] (git 2.41) carries challenges keyfob has
// no use for, quit is for git to read, not a helper, and authtype,
// credential, ephemeral and continue name capabilities keyfob neither
// announces nor serves. oauth_refresh_token (git 2.41) is a secret, like
// the password: keyfob keeps it with a remembered credential.
type GitAttrs struct {
	Protocol string
	Host     string
	Path     string
	Username string
	// HasUsername is set when git sent username=, even with an empty
	// value: git sends an empty one for a URL like https://@host/.
	HasUsername bool
	Password    Secret
	// HasPassword is set when git sent password=, even with an empty
	// value (git's test suite stores an empty one for an SSO host).
	HasPassword       bool
	PasswordExpiryUTC int64
	// OAuthRefreshToken is git's oauth_refresh_token (git 2.41).
	OAuthRefreshToken Secret
	Capabilities      []string
	State             []string
}

// Limits on what is read from git (pump.ReadGit).
const (
	// MaxGitLine is the longest line, its newline included (a CR before
	// the newline, which git drops, is not counted).
	MaxGitLine = pump.MaxGitLine
	// MaxGitInput is the most that is read, all lines together.
	MaxGitInput = pump.MaxGitInput
)

// ParseGit reads git's "key=value" lines up to a blank line or end of
// input, as git's credential_read does (pump.ReadGit: a CR before the
// newline is dropped, a line without "=", with NUL or CR, over MaxGitLine,
// or input over MaxGitInput is an error), and parses them with
// ParseGitLines.
func ParseGit(r io.Reader) (GitAttrs, error) {
	b, err := pump.ReadGit(r)
	if err != nil {
		return GitAttrs{}, err
	}
	defer clear(b)
	return ParseGitLines(b)
}

// ParseGitLines parses lines pump.ReadGit returned: unknown keys are
// ignored, url= is split as git splits it, and an unparsable
// password_expiry_utc is no expiry, as git reads it. Secrets are copied
// into bytes of their own, never into a string: the agent parses git's
// lines too, and a string cannot be wiped. The caller clears b. Lines are
// checked again (pump.CheckGitLine), since the agent cannot know that its
// peer read them with ReadGit.
func ParseGitLines(b []byte) (GitAttrs, error) {
	var a GitAttrs
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b)
		}
		line := b[:i]
		b = b[min(i+1, len(b)):]
		if len(line) >= MaxGitLine {
			a.wipe()
			return GitAttrs{}, fmt.Errorf("credential line exceeds %d bytes", MaxGitLine)
		}
		key, ok := pump.CheckGitLine(line)
		if !ok {
			a.wipe()
			return GitAttrs{}, pump.GitLineError(line)
		}
		if err := a.set(key, line[len(key)+1:]); err != nil {
			a.wipe()
			return GitAttrs{}, err
		}
	}
	return a, nil
}

// wipe clears the secrets a holds.
func (a *GitAttrs) wipe() {
	a.Password.Wipe()
	a.OAuthRefreshToken.Wipe()
}

func (a *GitAttrs) set(key, val []byte) error {
	switch string(key) {
	case "protocol":
		a.Protocol = string(val)
	case "host":
		a.Host = string(val)
	case "path":
		a.Path = string(val)
	case "username":
		a.Username, a.HasUsername = string(val), true
	case "password":
		a.Password.Wipe()
		a.Password, a.HasPassword = NewSecretBytes(bytes.Clone(val)), true
	case "oauth_refresh_token":
		a.OAuthRefreshToken.Wipe()
		a.OAuthRefreshToken = NewSecretBytes(bytes.Clone(val))
	case "password_expiry_utc":
		// git reads 0 or a number it cannot parse as no expiry.
		a.PasswordExpiryUTC = 0
		if n, err := strconv.ParseInt(string(val), 10, 64); err == nil && n > 0 {
			a.PasswordExpiryUTC = n
		}
	case "url":
		return a.setURL(val)
	case "capability[]":
		a.Capabilities = appendMulti(a.Capabilities, string(val))
	case "state[]":
		a.State = appendMulti(a.State, string(val))
	}
	return nil
}

// appendMulti follows git's rule for "key[]" attributes: an empty value
// clears what came before.
func appendMulti(list []string, v string) []string {
	if v == "" {
		return nil
	}
	return append(list, v)
}

// setURL reads url= as git's credential_from_url does. It forgets every
// attribute read so far, then sets those the URL names:
// "proto://[user[:password]@]host[/path]". The host ends at the first "/",
// "?" or "#"; the user part at the first "@", if that comes before the end
// of the host. Username, password, host and path are percent-decoded
// ("+" stays), the path loses its leading and trailing slashes, and
// "user@" with an empty user is an explicit empty username. A URL without
// "://" is an error, and so is a part that decodes to NUL, CR or LF.
func (a *GitAttrs) setURL(raw []byte) error {
	i := bytes.Index(raw, []byte("://"))
	if i <= 0 {
		return errors.New("credential url has no scheme")
	}
	a.wipe()
	*a = GitAttrs{Protocol: string(raw[:i])}
	rest := raw[i+3:]
	end := bytes.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host := rest[:end]
	if at := bytes.IndexByte(rest, '@'); at >= 0 && at < end {
		user := rest[:at]
		if colon := bytes.IndexByte(rest, ':'); colon >= 0 && colon < at {
			user = rest[:colon]
			a.Password, a.HasPassword = NewSecretBytes(urlDecode(rest[colon+1:at])), true
		}
		a.Username, a.HasUsername = string(urlDecode(user)), true
		host = rest[at+1 : end]
	}
	a.Host = string(urlDecode(host))
	if p := bytes.TrimLeft(rest[end:], "/"); len(p) > 0 {
		p = urlDecode(p)
		for len(p) > 1 && p[len(p)-1] == '/' {
			p = p[:len(p)-1]
		}
		a.Path = string(p)
	}
	bad := bytes.ContainsAny(a.Password.Bytes(), "\x00\r\n")
	for _, v := range []string{a.Protocol, a.Host, a.Path, a.Username} {
		bad = bad || strings.ContainsAny(v, "\x00\r\n")
	}
	if bad {
		a.wipe()
		*a = GitAttrs{}
		return errors.New("credential url holds NUL, CR or LF in one of its parts")
	}
	return nil
}

// urlDecode undoes percent-encoding as git's url_decode_mem does: "%" and
// two hex digits is a byte, anything else (a lone "%", "+") stays as it is.
// It returns a new slice.
func urlDecode(s []byte) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if hi, lo := unhex(s[i+1]), unhex(s[i+2]); hi >= 0 && lo >= 0 {
				b = append(b, byte(hi<<4|lo))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return b
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// ErrUnsafeValue means a value holds NUL, CR or LF, which would end or
// split a line of git's protocol: a value "x\npassword=…" would set an
// attribute of its own. WriteGit then writes nothing.
var ErrUnsafeValue = errors.New("holds a NUL, CR or LF")

// WriteGit writes the attributes that are set, in git's format (AppendGit).
func WriteGit(w io.Writer, a GitAttrs) error {
	b, err := AppendGit(nil, a)
	defer clear(b)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AppendGit appends the attributes that are set to b, in git's format,
// followed by nothing: git reads to end of input. An empty username or
// password is written only when HasUsername or HasPassword says it was
// given. Secrets are appended from their bytes, never through a string. If
// any value holds NUL, CR or LF it appends nothing and returns an error
// wrapping ErrUnsafeValue that names the attribute, never the value. That
// is git's own rule for what it sends a helper: never LF, and since its
// fixes of January 2025 (2.48, and the releases that took them, Debian
// 12's 2.39.5 among them) never CR; and a NUL would cut the value short
// when git reads it. The caller clears what b holds once it is written.
func AppendGit(b []byte, a GitAttrs) ([]byte, error) {
	// Room for every line at once, so that no growth leaves a copy of a
	// secret behind.
	need := 128 + len(a.Protocol) + len(a.Host) + len(a.Path) + len(a.Username) + a.Password.Len() + a.OAuthRefreshToken.Len()
	for _, v := range a.Capabilities {
		need += len(v) + 16
	}
	for _, v := range a.State {
		need += len(v) + 16
	}
	if cap(b)-len(b) < need {
		nb := make([]byte, len(b), len(b)+need)
		copy(nb, b)
		clear(b)
		b = nb
	}
	start := len(b)
	var bad string
	for _, c := range a.Capabilities {
		b = appendAttr(b, &bad, "capability[]", c, false)
	}
	b = appendAttr(b, &bad, "protocol", a.Protocol, false)
	b = appendAttr(b, &bad, "host", a.Host, false)
	b = appendAttr(b, &bad, "path", a.Path, false)
	b = appendAttr(b, &bad, "username", a.Username, a.HasUsername)
	b = appendAttr(b, &bad, "password", a.Password.Bytes(), a.HasPassword)
	if a.PasswordExpiryUTC != 0 {
		b = appendAttr(b, &bad, "password_expiry_utc", strconv.FormatInt(a.PasswordExpiryUTC, 10), false)
	}
	b = appendAttr(b, &bad, "oauth_refresh_token", a.OAuthRefreshToken.Bytes(), false)
	for _, v := range a.State {
		b = appendAttr(b, &bad, "state[]", v, false)
	}
	if bad != "" {
		clear(b[start:])
		return b[:start], fmt.Errorf("credential attribute %s %w", bad, ErrUnsafeValue)
	}
	return b, nil
}

// appendAttr appends "k=v" and a newline to b, unless v is empty and not
// given; a v holding NUL, CR or LF names k in *bad, if nothing is there.
func appendAttr[V string | []byte](b []byte, bad *string, k string, v V, given bool) []byte {
	if len(v) == 0 && !given {
		return b
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c == 0 || c == '\r' || c == '\n') && *bad == "" {
			*bad = k
		}
	}
	b = append(b, k...)
	b = append(b, '=')
	b = append(b, v...)
	return append(b, '\n')
}

// CapState is git's capability for helper state (git 2.46 and later): a
// git that announces it keeps the state[] values a helper sends with a
// credential and sends them back with store and erase.
const CapState = pump.CapState

// statePrefix marks keyfob's own state[] values among other helpers'.
const statePrefix = "keyfob:"

// FormatState is the state[] value naming the token served: its
// fingerprint and its name, "keyfob:sha256:0123456789ab:NAME".
func FormatState(token, fp string) string { return statePrefix + fp + ":" + token }

// OwnState returns keyfob's value among git's state[] values, "" when
// there is none. Values of other helpers are left alone.
func OwnState(values []string) string {
	for _, v := range values {
		if strings.HasPrefix(v, statePrefix) {
			return v
		}
	}
	return ""
}

// ParseState splits a value FormatState made into the token's name and
// fingerprint; ok is false for anything else.
func ParseState(v string) (token, fp string, ok bool) {
	rest, found := strings.CutPrefix(v, statePrefix)
	// A fingerprint is "sha256:" and 12 hex digits.
	if !found || len(rest) < 21 || !strings.HasPrefix(rest, "sha256:") || rest[19] != ':' {
		return "", "", false
	}
	return rest[20:], rest[:19], rest[20:] != ""
}
