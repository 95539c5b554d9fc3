package client

import (
	"reflect"
	"slices"
	"testing"
)

// FuzzGitRequestMatchesDecode: wherever the fast parser accepts a line,
// the exact decoder accepts it too and makes the same Request.
func FuzzGitRequestMatchesDecode(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"op":"get","cred":{"protocol":"https","host":"github.com","path":"a/b.git"}}` + "\n",
		`{"v":1,"op":"store","cred":{"protocol":"https","host":"h","username":"u","password_fp":"sha256:00","state":"keyfob:x"}}`,
		`{"v":1,"op":"erase","cred":{}}`,
		`{"v":1,"op":"get"}`,
		`{"v":1,"op":"get","cred":{"host":"a","host":"b"}}`,
		`{"v":1,"op":"get","cred":{"host":"日本"}}`,
		`{"v":01,"op":"get"}`,
		`{"v":2,"op":"get"}`,
		`{"v":1,"op":""}`,
		`{"v":1,"op":"get","secret":"s"}`,
		`{"v":1,"op":"get","cred":{"Host":"a"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := decodeGitRequest(b)
		if !ok {
			return
		}
		exact, err := decodeRequestExact(b)
		if err != nil {
			t.Fatalf("fast parser accepted %q, exact decoder: %v", b, err)
		}
		if !reflect.DeepEqual(fast, exact) {
			t.Fatalf("%q: fast %+v, exact %+v", b, fast, exact)
		}
	})
}

// TestGitRequestFastPath checks that lines of get's shape take the fast
// path, and that lines it must not take fall back.
func TestGitRequestFastPath(t *testing.T) {
	c := &Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: "x-access-token", PasswordFP: "sha256:ab", State: "keyfob:work:ab"}
	for _, op := range []string{OpGet, OpStore, OpErase} {
		line, err := EncodeRequest(&Request{V: Version, Op: op, Cred: c})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodeGitRequest(line)
		if !ok || got.Op != op || !reflect.DeepEqual(got.Cred, c) {
			t.Errorf("%s: fast path = %+v, %v", line, got, ok)
		}
	}
	for _, s := range []string{
		`{"v":1,"op":"get","cred":{"host":"a","host":"b"}}`,
		`{"v":1,"op":"get","cred":{"host":"a\u003c"}}`,
		`{"v":1,"op":"get","cred":{"host":"\xff"}}`,
		`{"v":1,"op":"get","cred":{"host":"a"},"secret":"s"}`,
		`{"v":1,"op":"get","cred":{"empty_username":true}}`,
		`{"v":1, "op":"get"}`,
		`{"v":1,"op":"get"}x`,
		`{"v":1,"op":"get"}` + "\n\n",
	} {
		if _, ok := decodeGitRequest([]byte(s)); ok {
			t.Errorf("%q took the fast path", s)
		}
	}
}

// FuzzGitResponseMatchesEncode: where the fast encoder writes an answer,
// its bytes are encoding/json's (through encode).
func FuzzGitResponseMatchesEncode(f *testing.F) {
	f.Add(1, "", "", "", "x-access-token", "work", "sha256:ab", "", "by route", int64(0), "", "ghp_x", "", false, false)
	f.Add(1, "not_found", "no token <for> this & remote\u2028", "keyfob which", "", "", "", "r", "\xff\x00\n", int64(-5), "w1\x7f", "", "", false, false)
	f.Add(1, "", "", "", "", "", "", "", "", int64(1700000000), "", "p\"w\\", "ref", true, true)
	f.Fuzz(func(t *testing.T, v int, code, msg, hint, user, tok, fp, route, reason string, expiry int64, warning, secret, refresh string, remembered, expired bool) {
		r := &Response{V: v, Code: code, Error: msg, Hint: hint, Username: user, Token: tok, Fingerprint: fp, Route: route,
			Reason: reason, Expiry: expiry, Secret: NewSecret(secret), Refresh: NewSecret(refresh), Remembered: remembered, PasswordExpired: expired}
		if warning != "" {
			r.Warnings = []string{warning, reason}
		}
		fast, ok := encodeGitResponse(r)
		want, err := encode((*responseAlias)(r), r.Secret, r.Refresh)
		if !ok {
			if err == nil && len(want) <= MaxMessage/2 {
				t.Fatalf("fast encoder refused %+v", r)
			}
			return
		}
		if err != nil || string(fast) != string(want) {
			t.Fatalf("\nfast %q\nwant %q (%v)", fast, want, err)
		}
	})
}

// TestGitResponseKnowsEveryField fails when Response gains a field: the
// fast encoder (fastresp.go) writes some fields and falls back on the
// exact encoder for the others, and a new one must be one or the other.
func TestGitResponseKnowsEveryField(t *testing.T) {
	var got []string
	rt := reflect.TypeFor[Response]()
	for i := range rt.NumField() {
		got = append(got, rt.Field(i).Name)
	}
	want := []string{"V", "Code", "Error", "Hint", "Username", "Token", "Fingerprint", "Route", "Reason", "Expiry", "Warnings", "Tokens", "Apps",
		"Candidates", "Status", "Grants", "Login", "Secret", "Refresh", "Remembered", "PasswordExpired", "MintFailed"}
	if !slices.Equal(got, want) {
		t.Errorf("Response's fields are %v, encodeGitResponse (fastresp.go) knows %v: write a new field there or fall back for it, then add it here", got, want)
	}
}
