package client

import (
	"strconv"
	"sync"
)

// scratch holds the secret-free part of answers being encoded.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// The agent encodes an answer for every request. Answers to git (get,
// store, erase) carry no lists or nested objects, so EncodeResponse first
// tries encodeGitResponse, which writes them without reflection: the bytes
// encoding/json writes, in its field order, secret and refresh last (as
// encode appends them). Any other answer goes through encoding/json.
// FuzzGitResponseMatchesEncode holds the two equal.

// encodeGitResponse returns resp's wire line, newline included, or false
// when resp carries a field only encoding/json writes, or is too large
// (encode then refuses it). The line is allocated once at its largest
// size, so no partial copy of a secret is left behind by growing it.
func encodeGitResponse(resp *Response) ([]byte, bool) {
	if len(resp.Tokens) > 0 || len(resp.Apps) > 0 || len(resp.Candidates) > 0 || resp.Status != nil || len(resp.Grants) > 0 || resp.Login != nil {
		return nil, false
	}
	strs := [...]struct{ k, v string }{
		{`"code":`, resp.Code}, {`"error":`, resp.Error}, {`"hint":`, resp.Hint},
		{`"username":`, resp.Username}, {`"token":`, resp.Token}, {`"fp":`, resp.Fingerprint},
		{`"route":`, resp.Route}, {`"reason":`, resp.Reason},
	}
	// The part without secrets goes to a scratch buffer first; the line
	// is then allocated once, with room for the secrets escaped at worst
	// (every byte as \u00XX).
	sp := scratch.Get().(*[]byte)
	defer func() {
		if cap(*sp) <= 64<<10 {
			scratch.Put(sp)
		}
	}()
	b := append((*sp)[:0], `{"v":`...)
	b = strconv.AppendInt(b, int64(resp.V), 10)
	for _, f := range strs {
		if f.v == "" {
			continue
		}
		b = append(b, ',')
		b = append(b, f.k...)
		b = appendJSONString(b, f.v)
	}
	if resp.Expiry != 0 {
		b = append(b, `,"expiry":`...)
		b = strconv.AppendInt(b, resp.Expiry, 10)
	}
	if len(resp.Warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i, w := range resp.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, w)
		}
		b = append(b, ']')
	}
	if resp.Remembered {
		b = append(b, `,"remembered":true`...)
	}
	if resp.PasswordExpired {
		b = append(b, `,"password_expired":true`...)
	}
	*sp = b
	if len(b)+resp.Secret.Len()+resp.Refresh.Len() > MaxMessage {
		return nil, false
	}
	b = append(make([]byte, 0, len(b)+32+6*(resp.Secret.Len()+resp.Refresh.Len())), b...)
	if !resp.Secret.IsZero() {
		b = append(b, `,"secret":`...)
		b = resp.Secret.AppendJSON(b)
	}
	if !resp.Refresh.IsZero() {
		b = append(b, `,"refresh":`...)
		b = resp.Refresh.AppendJSON(b)
	}
	b = append(b, '}', '\n')
	if len(b) > MaxMessage {
		clear(b)
		return nil, false
	}
	return b, true
}
