package client

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// GitAttrs holds the attributes of git's credential protocol
// (git-credential(1)). Attributes keyfob does not use are kept only where a
// round trip needs them; unknown ones are ignored, as git asks.
type GitAttrs struct {
	Protocol          string
	Host              string
	Path              string
	Username          string
	Password          Secret
	PasswordExpiryUTC int64
	Capabilities      []string
	WWWAuth           []string
	State             []string
}

// MaxGitInput caps what the helper reads from git.
const MaxGitInput = 64 << 10

// ParseGit reads git's "key=value" lines up to a blank line or end of input.
// A value with NUL or CR, a line without "=", or input over MaxGitInput is an
// error.
func ParseGit(r io.Reader) (GitAttrs, error) {
	var a GitAttrs
	br := bufio.NewReader(io.LimitReader(r, MaxGitInput+1))
	total := 0
	for {
		line, err := br.ReadString('\n')
		total += len(line)
		if total > MaxGitInput {
			return GitAttrs{}, errors.New("credential input exceeds 64 KiB")
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return GitAttrs{}, err
		}
		line = strings.TrimSuffix(line, "\n")
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

func (a *GitAttrs) set(line string) error {
	if strings.ContainsAny(line, "\x00\r") {
		return errors.New("credential attribute contains NUL or CR")
	}
	key, val, ok := strings.Cut(line, "=")
	if !ok {
		return fmt.Errorf("invalid credential line %q: want key=value", key)
	}
	switch key {
	case "protocol":
		a.Protocol = val
	case "host":
		a.Host = val
	case "path":
		a.Path = val
	case "username":
		a.Username = val
	case "password":
		a.Password = NewSecret(val)
	case "password_expiry_utc":
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid password_expiry_utc %q", val)
		}
		a.PasswordExpiryUTC = n
	case "url":
		return a.setURL(val)
	case "capability[]":
		a.Capabilities = appendMulti(a.Capabilities, val)
	case "wwwauth[]":
		a.WWWAuth = appendMulti(a.WWWAuth, val)
	case "state[]":
		a.State = appendMulti(a.State, val)
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

// setURL splits url= the way git does: it replaces every part it names.
func (a *GitAttrs) setURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("invalid credential url")
	}
	a.Protocol = u.Scheme
	a.Host = u.Host
	a.Path = strings.TrimPrefix(u.Path, "/")
	a.Username = ""
	a.Password = Secret{}
	if u.User != nil {
		a.Username = u.User.Username()
		if p, ok := u.User.Password(); ok {
			a.Password = NewSecret(p)
		}
	}
	return nil
}

// ErrUnsafeValue means a value holds NUL, CR or LF, which would end or
// split a line of git's protocol: a value "x\npassword=…" would set an
// attribute of its own. WriteGit then writes nothing.
var ErrUnsafeValue = errors.New("holds a NUL, CR or LF")

// WriteGit writes the attributes that are set, in git's format, followed by
// nothing: git reads to end of input. If any value holds NUL, CR or LF it
// writes nothing and returns an error wrapping ErrUnsafeValue that names the
// attribute, never the value.
func WriteGit(w io.Writer, a GitAttrs) error {
	var b strings.Builder
	var bad string
	put := func(k, v string) {
		if v == "" {
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
	for _, v := range a.WWWAuth {
		put("wwwauth[]", v)
	}
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
