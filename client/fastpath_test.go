package client

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

func TestAppendGitRequestMatchesEncodeRequest(t *testing.T) {
	for _, c := range []*Credential{
		nil,
		{},
		{Protocol: "https", Host: "github.com"},
		{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: "bot", PasswordFP: "sha256:0123456789ab"},
		{Protocol: "https", Host: "github.com", EmptyUsername: true, State: "keyfob:x"},
		{Host: "a<b>&c\"\\\x00\x1f\t\n\r\b\f\u2028\u2029\x7f é \xff"},
	} {
		for _, op := range []string{OpGet, OpStore, OpErase} {
			want, err := EncodeRequest(&Request{V: Version, Op: op, Cred: c})
			if err != nil {
				t.Fatal(err)
			}
			if got := appendGitRequest(nil, op, c); !bytes.Equal(got, want) {
				t.Errorf("appendGitRequest(%q, %+v) = %s, want %s", op, c, got, want)
			}
		}
	}
}

func FuzzAppendGitRequest(f *testing.F) {
	f.Add("get", "https", "github.com", "acme/app.git", "bot", "sha256:00", int64(0), false)
	f.Add("erase", "h\xfft<tp", "x\u2028", "\x00", "\"", "\\", int64(-1), true)
	f.Add("store", "https", "sso.tld", "", "", "", int64(4102444799), true)
	f.Fuzz(func(t *testing.T, op, proto, host, path, user, fp string, expiry int64, emptyPass bool) {
		c := &Credential{Protocol: proto, Host: host, Path: path, Username: user, EmptyUsername: user == "", PasswordFP: fp,
			PasswordExpiryUTC: expiry, EmptyPassword: emptyPass}
		want, err := EncodeRequest(&Request{V: Version, Op: op, Cred: c})
		if err != nil {
			return
		}
		if got := appendGitRequest(nil, op, c); !bytes.Equal(got, want) {
			t.Errorf("appendGitRequest = %q, want %q", got, want)
		}
	})
}

func TestDecodeGitResponse(t *testing.T) {
	full := &Response{V: Version, Username: "x-access-token", Token: "work", Fingerprint: "sha256:0123456789ab",
		Route: "acme/*", Reason: "host \"github.com\" \u2028 <b>", Expiry: 1767225600,
		Warnings: []string{"token work is rotation-due", "é\ttab"}, Secret: NewSecret("not-a-real-token\"\\")}
	fail := &Response{V: Version, Code: CodeLocked, Error: "keyfob is locked", Hint: "run keyfob unlock"}
	for _, resp := range []*Response{full, fail, {V: Version}} {
		line, err := EncodeResponse(resp)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := fastDecode(line)
		if !ok {
			t.Fatalf("fastDecode(%s) fell back", line)
		}
		checkSameResponse(t, line, got)
	}
	// Lines the fast path leaves to encoding/json.
	for _, line := range []string{
		`{"v":1,"status":{"version":1}}`, `{"v":1,"code":null}`, `{"v":1,"Code":"x"}`,
		`{"v":1,"error":"\ud83d\ude00"}`, `{"v":2}`, `{"v":1,"v":1}`, `{"v":1,"secret":"a","secret":"b"}`, `{"v":1,"warnings":[],"warnings":["x"]}`, `{"v":1.0}`, `{"v":1}x`, `{}`, `{"v":1,"error":"a` + "\xff" + `"}`,
	} {
		if _, ok := fastDecode([]byte(line)); ok {
			t.Errorf("fastDecode(%s) decoded it, want a fall back to DecodeResponse", line)
		}
	}
}

// checkSameResponse fails when DecodeResponse reads line differently from
// the fast path's got.
func checkSameResponse(t *testing.T, line []byte, got *Response) {
	t.Helper()
	want, err := DecodeResponse(line)
	if err != nil {
		t.Fatalf("fastDecode(%q) succeeded, DecodeResponse failed: %v", line, err)
	}
	if !got.Secret.Equal(want.Secret) {
		t.Errorf("fastDecode(%q): secret differs from DecodeResponse", line)
	}
	got.Secret, want.Secret = Secret{}, Secret{}
	if len(got.Warnings) == 0 && len(want.Warnings) == 0 {
		got.Warnings, want.Warnings = nil, nil
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) || !slices.Equal(got.Warnings, want.Warnings) {
		t.Errorf("fastDecode(%q) = %s, DecodeResponse = %s", line, g, w)
	}
}

func FuzzDecodeGitResponse(f *testing.F) {
	f.Add([]byte(`{"v":1,"username":"u","secret":"s","expiry":-12,"warnings":["a\"b","\u00e9"]}` + "\n"))
	f.Add([]byte(`{"v":1,"code":"locked","error":"e","hint":"h"}`))
	f.Add([]byte(` { "v" : 1 , "warnings" : [ ] } `))
	f.Add([]byte(`{"v":1,"secret":"a","secret":"b"}`))
	f.Add([]byte(`{"v":1,"code":"locked","Code":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if got, ok := fastDecode(line); ok {
			checkSameResponse(t, line, got)
		}
		_, ferr := decodeGitResponse(line)
		_, serr := DecodeResponse(line)
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("decodeGitResponse(%q) = %v, DecodeResponse = %v", line, ferr, serr)
		}
	})
}

// FuzzGitRequestLine: with git's password and refresh token (store), the
// helper's line is EncodeRequest's, byte for byte.
func FuzzGitRequestLine(f *testing.F) {
	f.Add("store", "github.com", "bot", "ghp_not-a-real-token", "", int64(0))
	f.Add("store", "h", "", "p\"w\\\x00<&>\u2028\xff", "refresh\n", int64(4102444799))
	f.Add("erase", "h", "u", "", "", int64(-1))
	f.Fuzz(func(t *testing.T, op, host, user, secret, refresh string, expiry int64) {
		c := &Credential{Protocol: "https", Host: host, Username: user, PasswordExpiryUTC: expiry, PasswordFP: "sha256:00"}
		req := &Request{V: Version, Op: op, Cred: c, Secret: NewSecret(secret), Refresh: NewSecret(refresh)}
		want, err := EncodeRequest(req)
		got, ok := gitRequestLine(op, c, req.Secret, req.Refresh)
		if err != nil {
			if ok {
				t.Fatalf("EncodeRequest refused (%v), gitRequestLine wrote %q", err, got)
			}
			return
		}
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("gitRequestLine = %q, %v\nwant %q", got, ok, want)
		}
	})
}

// TestGitCallKnowsEveryRequestField fails when Request gains a field:
// gitCall sends only an op, a credential and the two secrets by hand, and
// must send any other field through Call.
func TestGitCallKnowsEveryRequestField(t *testing.T) {
	var got []string
	rt := reflect.TypeFor[Request]()
	for i := range rt.NumField() {
		got = append(got, rt.Field(i).Name)
	}
	want := []string{"V", "Op", "Cred", "Name", "Meta", "Grant", "App", "Login", "Secret", "Refresh"}
	if !slices.Equal(got, want) {
		t.Errorf("Request's fields are %v, gitCall (fastcall_linux.go) knows %v: send a new field through Call there, then add it here", got, want)
	}
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
