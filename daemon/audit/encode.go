package audit

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// appendLine appends e as one audit line, newline included: the bytes
// zap's JSON encoder writes for e's MarshalLogObject under the log's
// encoder config (time first, RFC 3339 with nanoseconds, as is; then the
// fields in MarshalLogObject's order), with no reflection and no
// allocation beyond b. TestEncoderMatchesZap holds the two equal.
func (e *Event) appendLine(b []byte) []byte {
	b = append(b, `{"`+FieldTime+`":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, FieldOp, e.Op, MaxField)
	b = appendField(b, FieldDecision, e.Decision, MaxField)
	if e.Reason != "" {
		b = appendField(b, FieldReason, e.Reason, MaxLongField)
	}
	b = append(b, `,"`+FieldUID+`":`...)
	b = strconv.AppendInt(b, int64(e.UID), 10)
	b = append(b, `,"`+FieldPID+`":`...)
	b = strconv.AppendInt(b, int64(e.PID), 10)
	if e.Exe != "" {
		b = appendField(b, FieldExe, e.Exe, MaxLongField)
	}
	// The order of MarshalLogObject's loop.
	b = appendOptional(b, FieldProtocol, e.Protocol, MaxField)
	b = appendOptional(b, FieldHost, e.Host, MaxField)
	b = appendOptional(b, FieldPath, e.Path, MaxLongField)
	b = appendOptional(b, FieldToken, e.Token, MaxField)
	b = appendOptional(b, FieldFP, e.FP, MaxField)
	b = appendOptional(b, FieldGrant, e.Grant, MaxField)
	b = appendOptional(b, FieldUsername, e.Username, MaxField)
	if e.Installation != 0 {
		b = append(b, `,"`+FieldInstallation+`":`...)
		b = strconv.AppendInt(b, e.Installation, 10)
	}
	b = appendOptional(b, FieldScope, e.Scope, MaxLongField)
	if !e.Expires.IsZero() {
		b = append(b, `,"`+FieldExpires+`":"`...)
		b = e.Expires.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	b = appendOptional(b, FieldMint, e.Mint, MaxField)
	return append(b, "}\n"...)
}

func appendOptional(b []byte, key, v string, max int) []byte {
	if v == "" {
		return b
	}
	return appendField(b, key, v, max)
}

// appendField appends ,"key":"v" with v cut to max (clip) and escaped as
// zap escapes: \\ and \" , \n \r \t, other bytes below 0x20 as \u00xx, each
// byte of invalid UTF-8 as \ufffd, everything else as is. Keys are
// constants that need no escaping.
func appendField(b []byte, key, v string, max int) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":"`...)
	s := clip(v, max)
	const hex = "0123456789abcdef"
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[last:i]...)
			b = append(b, `\ufffd`...)
			i++
			last = i
			continue
		}
		if c >= 0x20 && c != '\\' && c != '"' {
			i++
			continue
		}
		b = append(b, s[last:i]...)
		switch c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		last = i
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}

// lineBufs holds line buffers between writes. A line holds no secret, but
// a buffer is wiped before it goes back all the same.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
