package client

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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

// Limits on what the helper reads from git. git-credential(1) caps a line
// at MaxGitLine; git sends one wwwauth[] line per challenge of the server
// and a few lines besides, so MaxGitInput only bounds memory, far above
// anything git sends.
const (
	// MaxGitLine is the longest line, its newline included (a CR before
	// the newline, which git drops, is not counted).
	MaxGitLine = 65535
	// MaxGitInput is the most the helper reads, all lines together.
	MaxGitInput = 1 << 20
)

// ParseGit reads git's "key=value" lines up to a blank line or end of
// input, as git's credential_read does: a CR before the newline is
// dropped, unknown keys are ignored, and url= is split as git splits it.
// A line without "=", a value still holding NUL or CR, an unparsable url=,
// a line over MaxGitLine or input over MaxGitInput is an error. An
// unparsable password_expiry_utc is no expiry, as git reads it.
func ParseGit(r io.Reader) (GitAttrs, error) {
	var a GitAttrs
	br := bufio.NewReader(r)
	total := 0
	for {
		line, err := readGitLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return GitAttrs{}, err
		}
		if total += len(line); total > MaxGitInput {
			return GitAttrs{}, fmt.Errorf("credential input exceeds %d bytes", MaxGitInput)
		}
		if line == "" {
			return a, nil
		}
		if perr := a.set(line); perr != nil {
			return GitAttrs{}, perr
		}
		if err != nil {
			return a, nil
		}
	}
}

// readGitLine reads one line without its newline and without a CR just
// before it (git's strbuf_getline). A CR at end of input, with no newline
// after it, stays. It never holds more than MaxGitLine and a CR.
func readGitLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxGitLine+1 {
			return "", fmt.Errorf("credential line exceeds %d bytes", MaxGitLine)
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line := string(buf)
		if l, ok := strings.CutSuffix(line, "\n"); ok {
			line = strings.TrimSuffix(l, "\r")
		}
		if len(line) >= MaxGitLine {
			return "", fmt.Errorf("credential line exceeds %d bytes", MaxGitLine)
		}
		return line, err
	}
}

func (a *GitAttrs) set(line string) error {
	key, val, ok := strings.Cut(line, "=")
	if !ok {
		return errors.New("invalid credential line: want key=value")
	}
	// git never writes NUL, and reading it would cut the value short; a
	// CR left inside a value is one git refuses to send since its fixes of
	// January 2025 (credential.protectProtocol), and keyfob could not
	// write it back.
	if strings.ContainsAny(val, "\x00\r") || strings.IndexByte(key, 0) >= 0 {
		return fmt.Errorf("credential attribute %s contains NUL or CR", clipKey(key))
	}
	switch key {
	case "protocol":
		a.Protocol = val
	case "host":
		a.Host = val
	case "path":
		a.Path = val
	case "username":
		a.Username, a.HasUsername = val, true
	case "password":
		a.Password, a.HasPassword = NewSecret(val), true
	case "oauth_refresh_token":
		a.OAuthRefreshToken = NewSecret(val)
	case "password_expiry_utc":
		// git reads 0 or a number it cannot parse as no expiry.
		a.PasswordExpiryUTC = 0
		if n, err := strconv.ParseInt(val, 10, 64); err == nil && n > 0 {
			a.PasswordExpiryUTC = n
		}
	case "url":
		return a.setURL(val)
	case "capability[]":
		a.Capabilities = appendMulti(a.Capabilities, val)
	case "state[]":
		a.State = appendMulti(a.State, val)
	}
	return nil
}

// clipKey names a key in an error without letting a long one flood stderr.
func clipKey(k string) string {
	if len(k) > 32 {
		return strconv.Quote(k[:32]) + "…"
	}
	return strconv.Quote(k)
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
func (a *GitAttrs) setURL(raw string) error {
	i := strings.Index(raw, "://")
	if i <= 0 {
		return errors.New("credential url has no scheme")
	}
	*a = GitAttrs{Protocol: raw[:i]}
	rest := raw[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host := rest[:end]
	if at := strings.IndexByte(rest, '@'); at >= 0 && at < end {
		user := rest[:at]
		if colon := strings.IndexByte(rest, ':'); colon >= 0 && colon < at {
			user = rest[:colon]
			a.Password, a.HasPassword = NewSecret(urlDecode(rest[colon+1:at])), true
		}
		a.Username, a.HasUsername = urlDecode(user), true
		host = rest[at+1 : end]
	}
	a.Host = urlDecode(host)
	if p := strings.TrimLeft(rest[end:], "/"); p != "" {
		p = urlDecode(p)
		for len(p) > 1 && strings.HasSuffix(p, "/") {
			p = p[:len(p)-1]
		}
		a.Path = p
	}
	for _, v := range []string{a.Protocol, a.Host, a.Path, a.Username, a.Password.Reveal()} {
		if strings.ContainsAny(v, "\x00\r\n") {
			*a = GitAttrs{}
			return errors.New("credential url holds NUL, CR or LF in one of its parts")
		}
	}
	return nil
}

// urlDecode undoes percent-encoding as git's url_decode_mem does: "%" and
// two hex digits is a byte, anything else (a lone "%", "+") stays as it is.
func urlDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if hi, lo := unhex(s[i+1]), unhex(s[i+2]); hi >= 0 && lo >= 0 {
				b.WriteByte(byte(hi<<4 | lo))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
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

// WriteGit writes the attributes that are set, in git's format, followed by
// nothing: git reads to end of input. An empty username or password is
// written only when HasUsername or HasPassword says it was given. If any value holds NUL, CR or LF it
// writes nothing and returns an error wrapping ErrUnsafeValue that names the
// attribute, never the value. That is git's own rule for what it sends a
// helper: never LF, and since its fixes of January 2025 (2.48, and the
// releases that took them, Debian 12's 2.39.5 among them) never CR; and a
// NUL would cut the value short when git reads it.
func WriteGit(w io.Writer, a GitAttrs) error {
	var b strings.Builder
	var bad string
	put := func(k, v string) {
		if v == "" && !(k == "username" && a.HasUsername) && !(k == "password" && a.HasPassword) {
			return
		}
		if strings.ContainsAny(v, "\x00\r\n") && bad == "" {
			bad = k
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	for _, c := range a.Capabilities {
		put("capability[]", c)
	}
	put("protocol", a.Protocol)
	put("host", a.Host)
	put("path", a.Path)
	put("username", a.Username)
	put("password", a.Password.Reveal())
	if a.PasswordExpiryUTC != 0 {
		put("password_expiry_utc", strconv.FormatInt(a.PasswordExpiryUTC, 10))
	}
	put("oauth_refresh_token", a.OAuthRefreshToken.Reveal())
	for _, v := range a.State {
		put("state[]", v)
	}
	if bad != "" {
		return fmt.Errorf("credential attribute %s %w", bad, ErrUnsafeValue)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CapState is git's capability for helper state (git 2.46 and later): a
// git that announces it keeps the state[] values a helper sends with a
// credential and sends them back with store and erase.
const CapState = "state"

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
