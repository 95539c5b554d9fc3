// Package audit keeps keyfob's audit log: one JSON line per decision, in a
// file of its own (mode 0600), written before the answer goes out, never
// sampled or filtered, and never holding a secret. Log writes it; Reader
// and Filter read it back by the same field names.
package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap/zapcore"
)

// Field names of an audit line. Readers (Filter, tests, log shippers) rely
// on them.
const (
	FieldTime     = "time"
	FieldOp       = "op"
	FieldDecision = "decision"
	FieldReason   = "reason"
	FieldUID      = "peer_uid"
	FieldPID      = "peer_pid"
	FieldExe      = "peer_exe"
	FieldProtocol = "protocol"
	FieldHost     = "host"
	FieldPath     = "path"
	// FieldUsername is the username git sent, "" when it sent none.
	FieldUsername = "username"
	FieldToken    = "token"
	FieldFP       = "fp"
	FieldGrant    = "grant"
	// Installation tokens minted from a GitHub App: the installation, the
	// scope asked for, the token's expiry, and whether this answer minted
	// it or reused a cached one (Minted, Reused).
	FieldInstallation = "installation"
	FieldScope        = "scope"
	FieldExpires      = "expires"
	FieldMint         = "mint"
)

// Caps on the string fields of an audit line, in bytes before JSON
// escaping. Peers choose most of what an event holds (the host, the path,
// the op, reasons that quote them), so a value over its cap is cut at a
// UTF-8 boundary and ends in Truncated, the whole value, marker included,
// within the cap. Reason, path, peer_exe and scope get MaxLongField; every
// other field MaxField. Control characters are escaped by the JSON encoder
// (\n, \u001b), so a line is always one line.
const (
	MaxField     = 256
	MaxLongField = 1024
	Truncated    = "…(truncated)"
)

// Decisions.
const (
	Granted    = "granted"
	NoMatch    = "no-match"
	DeniedPeer = "denied-peer"
	Denied     = "denied"
	Locked     = "locked"
	BadRequest = "bad-request"
	Stored     = "stored"
	Erased     = "erased"
	Changed    = "changed"
	Failed     = "failed"
	// Minted and Reused are values of FieldMint; Revoked is the decision
	// of a revoke line.
	Minted  = "minted"
	Reused  = "reused"
	Revoked = "revoked"
)

// Event is one decision.
type Event struct {
	Time     time.Time
	Op       string
	Decision string
	Reason   string
	UID      int
	PID      int
	Exe      string
	Protocol string
	Host     string
	Path     string
	Username string
	Token    string
	FP       string
	Grant    string

	Installation int64
	Scope        string
	Expires      time.Time
	Mint         string
}

// MarshalLogObject writes the event's fields in a fixed order, each string
// cut to its cap.
func (e Event) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString(FieldOp, clip(e.Op, MaxField))
	enc.AddString(FieldDecision, clip(e.Decision, MaxField))
	if e.Reason != "" {
		enc.AddString(FieldReason, clip(e.Reason, MaxLongField))
	}
	enc.AddInt(FieldUID, e.UID)
	enc.AddInt(FieldPID, e.PID)
	if e.Exe != "" {
		enc.AddString(FieldExe, clip(e.Exe, MaxLongField))
	}
	for _, f := range [...]struct {
		k, v string
		max  int
	}{
		{FieldProtocol, e.Protocol, MaxField}, {FieldHost, e.Host, MaxField}, {FieldPath, e.Path, MaxLongField},
		{FieldToken, e.Token, MaxField}, {FieldFP, e.FP, MaxField}, {FieldGrant, e.Grant, MaxField},
		{FieldUsername, e.Username, MaxField},
	} {
		if f.v != "" {
			enc.AddString(f.k, clip(f.v, f.max))
		}
	}
	if e.Installation != 0 {
		enc.AddInt64(FieldInstallation, e.Installation)
	}
	if e.Scope != "" {
		enc.AddString(FieldScope, clip(e.Scope, MaxLongField))
	}
	if !e.Expires.IsZero() {
		enc.AddString(FieldExpires, e.Expires.UTC().Format(time.RFC3339))
	}
	if e.Mint != "" {
		enc.AddString(FieldMint, clip(e.Mint, MaxField))
	}
	return nil
}

// clip returns s if it fits in n bytes, else its longest prefix that ends
// at a UTF-8 boundary and leaves room for Truncated, then Truncated.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(Truncated)
	// Back off to the start of a rune; in invalid UTF-8 there may be
	// none nearby, and the encoder replaces what is cut anyway.
	for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	return s[:cut] + Truncated
}

// Log is an open audit log. Before each line it checks that its file
// still has the log's name (a rename or a removal, by logrotate or by
// hand, is noticed and the log reopened), so a decision is never audited
// into a file that no longer has a name; with a size cap it rotates the
// file itself (SetRotation).
type Log struct {
	mu sync.Mutex
	f  *os.File
	// id is f's identity when it was opened; zero if it could not be read.
	id   ident
	path string
	// name is path, NUL-terminated, for the stat before each line.
	name []byte
	// raw is whether f is on a local file system (localFS).
	raw bool
	// maxSize and keep are the rotation: 0 never rotates.
	maxSize int64
	keep    int
}

// Open opens (creating 0600, appending) the audit log at path, creating its
// directory 0700.
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l := &Log{path: path, name: append([]byte(path), 0)}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// open opens the file at l.path (creating it 0600) as the log's file,
// closing the one before.
func (l *Log) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().Perm()&0o077 != 0 {
		f.Close()
		return fmt.Errorf("audit log %s is readable by others (mode %04o): run chmod 600 %s", l.path, fi.Mode().Perm(), l.path)
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.id, l.raw = f, identOf(fi), localFS(f)
	return nil
}

// Path returns the log's file name.
func (l *Log) Path() string { return l.path }

// SetRotation makes the log rotate once its file reaches maxSize bytes:
// audit.log becomes audit.log.1, audit.log.1 becomes audit.log.2, and so
// on, keeping keep of them; the oldest goes. Each is renamed whole between
// two lines, so no line is split or lost. maxSize 0 never rotates.
func (l *Log) SetRotation(maxSize int64, keep int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxSize, l.keep = maxSize, max(keep, 1)
}

// Reopen closes the file and opens the one at the log's path, creating
// it (SIGHUP, after logrotate renamed it).
func (l *Log) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open()
}

// current makes sure l.f is the file at l.path, reopening when the path
// names another file or none, and rotates a file at its size cap. It
// returns where the next line starts.
func (l *Log) current() (int64, error) {
	// One stat of the name per line: the open file's identity is kept
	// from when it was opened (an inode cannot be reused while this log
	// holds it open), and the name's size is then the open file's. With
	// O_APPEND, and only this log writing, under l.mu, that size is where
	// the next line starts.
	named, end, err := statName(l.name, l.raw)
	if err != nil || l.id.zero() || named != l.id {
		// Renamed or removed: the next line goes to a file of that name.
		if err := l.open(); err != nil {
			return 0, err
		}
		fi, err := l.f.Stat()
		if err != nil {
			return 0, err
		}
		end = fi.Size()
	}
	if l.maxSize > 0 && end >= l.maxSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
		end = 0
	}
	return end, nil
}

// RotatedName is the name of the n-th rotated file of the log at path
// (path.1 is the newest).
func RotatedName(path string, n int) string { return path + "." + strconv.Itoa(n) }

// rotate shifts the rotated files up by one, dropping the oldest, renames
// the log's file to path.1 and opens a new one.
func (l *Log) rotate() error {
	if err := os.Remove(RotatedName(l.path, l.keep)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("rotate audit log: %w", err)
	}
	for n := l.keep - 1; n >= 1; n-- {
		if err := os.Rename(RotatedName(l.path, n), RotatedName(l.path, n+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate audit log: %w", err)
		}
	}
	if err := os.Rename(l.path, RotatedName(l.path, 1)); err != nil {
		return fmt.Errorf("rotate audit log: %w", err)
	}
	return l.open()
}

// Write appends e as one line. The caller must not hand anything out when
// Write fails: a decision that cannot be audited is not made.
func (l *Log) Write(e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	end, err := l.current()
	if err != nil {
		return fmt.Errorf("write audit log %s: %w", l.path, err)
	}
	// A full disk can take part of a line before failing (ENOSPC after a
	// short write). Cut the file back to where the line began, so the next
	// line does not start in the middle of this one.
	bp := lineBufs.Get().(*[]byte)
	line := e.appendLine((*bp)[:0])
	err = writeFile(l.f, line, l.raw)
	clear(line)
	if cap(line) <= 64<<10 {
		*bp = line[:0]
		lineBufs.Put(bp)
	}
	if err != nil {
		_ = l.f.Truncate(end)
		return fmt.Errorf("write audit log %s: %w", l.path, err)
	}
	return nil
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
