package notify

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
	"go.uber.org/zap/zapcore"
)

// StderrIsJournal reports whether the service manager connected stderr to
// the journal (JOURNAL_STREAM names stderr's device and inode) and the
// journal's socket answers. Then logs go to the journal with their fields
// instead of as text on stderr.
func StderrIsJournal() bool {
	ok, err := journal.StderrIsJournalStream()
	return err == nil && ok && journal.Enabled()
}

// JournalCore returns a zap core that sends each entry to the journal: the
// message as MESSAGE, the level as PRIORITY, and every field as a journal
// field with an upper-case name (token → TOKEN).
func JournalCore(level zapcore.LevelEnabler) zapcore.Core {
	return &journalCore{LevelEnabler: level, fields: map[string]string{}, send: journal.Send}
}

type journalCore struct {
	zapcore.LevelEnabler
	fields map[string]string
	send   func(msg string, p journal.Priority, vars map[string]string) error
}

func (c *journalCore) With(fs []zapcore.Field) zapcore.Core {
	n := &journalCore{LevelEnabler: c.LevelEnabler, fields: maps.Clone(c.fields), send: c.send}
	addFields(n.fields, fs)
	return n
}

func (c *journalCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *journalCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
	vars := maps.Clone(c.fields)
	addFields(vars, fs)
	vars["SYSLOG_IDENTIFIER"] = "keyfob"
	if e.LoggerName != "" {
		vars["LOGGER"] = e.LoggerName
	}
	if e.Caller.Defined {
		vars["CODE_FILE"] = e.Caller.File
		vars["CODE_LINE"] = strconv.Itoa(e.Caller.Line)
		vars["CODE_FUNC"] = e.Caller.Function
	}
	if e.Stack != "" {
		vars["STACK"] = e.Stack
	}
	if err := c.send(e.Message, priority(e.Level), vars); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

func (c *journalCore) Sync() error { return nil }

func priority(l zapcore.Level) journal.Priority {
	switch {
	case l <= zapcore.DebugLevel:
		return journal.PriDebug
	case l == zapcore.InfoLevel:
		return journal.PriInfo
	case l == zapcore.WarnLevel:
		return journal.PriWarning
	case l == zapcore.ErrorLevel:
		return journal.PriErr
	default:
		return journal.PriCrit
	}
}

// addFields encodes fs into vars: strings as they are, everything else as
// JSON.
func addFields(vars map[string]string, fs []zapcore.Field) {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fs {
		f.AddTo(enc)
	}
	for k, v := range enc.Fields {
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case fmt.Stringer:
			s = v.String()
		default:
			b, err := json.Marshal(v)
			if err != nil {
				b = []byte(fmt.Sprint(v))
			}
			s = string(b)
		}
		vars[FieldName(k)] = s
	}
}

// reserved are journal fields the core sets itself; a log field of the same
// name is prefixed with KEYFOB_.
var reserved = map[string]bool{
	"MESSAGE": true, "MESSAGE_ID": true, "PRIORITY": true, "SYSLOG_IDENTIFIER": true,
	"CODE_FILE": true, "CODE_LINE": true, "CODE_FUNC": true, "LOGGER": true, "STACK": true,
	"ERRNO": true, "INVOCATION_ID": true, "SYSLOG_FACILITY": true, "SYSLOG_PID": true,
}

// FieldName turns a log field's key into a journal field name: upper case
// letters, digits and underscores, starting with a letter ("peer.exe" →
// PEER_EXE, "message" → KEYFOB_MESSAGE).
func FieldName(k string) string {
	b := []byte(strings.ToUpper(k))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	n := string(b)
	if n == "" || n[0] < 'A' || n[0] > 'Z' || reserved[n] || strings.HasPrefix(n, "SYSTEMD_") {
		n = "KEYFOB_" + strings.TrimLeft(n, "_")
	}
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}
