package client

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

const canary = "ghp_canaryWIRE0000000000000000000wxyz"

func TestSecretRedacts(t *testing.T) {
	s := NewSecret(canary)
	type holder struct {
		S Secret
		P *Secret
	}
	h := holder{S: s, P: &s}
	js, _ := json.Marshal(h)
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", s, s, s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", h, h, h), fmt.Sprintf("%v", []Secret{s}), string(js),
		fmt.Sprint(&s), (&Error{Message: "x"}).Error(),
	} {
		if strings.Contains(out, "canary") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if s.Reveal() != canary {
		t.Fatalf("Reveal() = %q", s.Reveal())
	}
	if !s.Equal(NewSecret(canary)) || s.Equal(NewSecret(canary+"x")) {
		t.Fatal("Equal is wrong")
	}
	c := s
	s.Wipe()
	if c.Reveal() == canary {
		t.Fatal("Wipe did not reach a copy")
	}
}

func TestCodecRoundTrip(t *testing.T) {
	req := &Request{V: Version, Op: OpAdd, Name: "personal",
		Cred:   &Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: "u"},
		Meta:   &TokenMeta{Hosts: []string{"github.com"}, Username: "x", Expires: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), RotateEvery: 3600},
		Secret: NewSecret(canary)}
	b, err := EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(b, []byte("\n")) != 1 || b[len(b)-1] != '\n' {
		t.Fatalf("EncodeRequest = %q, want one line", b)
	}
	got, err := DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stripSecret(got), stripSecret(req)) || !got.Secret.Equal(req.Secret) {
		t.Fatalf("DecodeRequest(EncodeRequest(%+v)) = %+v", req, got)
	}
	resp := &Response{V: Version, Username: "x-access-token", Token: "personal", Expiry: 42, Secret: NewSecret(canary),
		Tokens: []TokenInfo{{Name: "personal", Hosts: []string{"github.com"}}}}
	rb, err := EncodeResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	rgot, err := DecodeResponse(rb)
	if err != nil || !rgot.Secret.Equal(resp.Secret) || rgot.Token != "personal" || rgot.Expiry != 42 {
		t.Fatalf("DecodeResponse = %+v, %v", rgot, err)
	}
}

func stripSecret(r *Request) Request {
	c := *r
	c.Secret = Secret{}
	return c
}

func TestDecodeRejects(t *testing.T) {
	for _, line := range []string{
		``, `{}`, `{"v":2,"op":"get"}`, `{"v":1}`, `not json`, `{"v":1,"op":"get"}` + "\n{}",
		`{"v":1,"op":"get","cred":"x"}`, strings.Repeat("x", MaxMessage+1),
	} {
		if _, err := DecodeRequest([]byte(line)); err == nil {
			t.Errorf("DecodeRequest(%.40q) succeeded, want an error", line)
		} else if strings.Contains(err.Error(), "canary") {
			t.Errorf("error leaks input: %v", err)
		}
	}
}

func TestDecodeRefusesAmbiguousKeys(t *testing.T) {
	for _, line := range []string{
		`{"v":1,"op":"get","OP":"lock"}`,
		`{"v":1,"Op":"lock"}`,
		`{"v":1,"op":"get","op":"lock"}`,
		`{"v":1,"op":"get","\u006fp":"lock"}`,
		`{"v":1,"V":1,"op":"get"}`,
		`{"v":1,"op":"add","secret":"a","secret":"b"}`,
		`{"v":1,"op":"add","Secret":"a"}`,
		`{"v":1,"op":"add","\u017fecret":"a"}`, // ſ folds to s
		`{"v":1,"op":"get","cred":{"host":"a","host":"b"}}`,
		`{"v":1,"op":"get","cred":{"Host":"github.com"}}`,
		`{"v":1,"op":"get","cred":{"protocol":"https"},"Cred":{"protocol":"http"}}`,
		`{"v":1,"op":"add","meta":{"hosts":["a"],"hosts":[]}}`,
		`{"v":1,"op":"add","meta":{"no_verify":false,"NO_VERIFY":true}}`,
		`{"v":1,"op":"grant","grant":{"urls":["a"],"mode":"socket","uids":[1],"UIDs":[2]}}`,
		`{"v":1,"op":"app-add","app":{"app_id":1,"App_ID":2}}`,
		`{"v":1,"op":"get","future":{"a":1,"a":2}}`,
		`{"v":1,"op":"get","future":[{"a":[{"b":1,"b":1}]}]}`,
		`{"v":1,"op":"get","x":1,"x":1}`,
	} {
		_, err := DecodeRequest([]byte(line))
		if err == nil || !strings.HasPrefix(err.Error(), "malformed message: ") {
			t.Errorf("DecodeRequest(%s) = %v, want a malformed message", line, err)
		}
	}
	for _, line := range []string{
		`{"v":1,"code":"locked","Code":"x"}`,
		`{"v":1,"secret":"a","secret":"b"}`,
		`{"v":1,"status":{"locked":true,"locked":false}}`,
		`{"v":1,"status":{"Locked":false}}`,
		`{"v":1,"tokens":[{"name":"a"},{"name":"b","Name":"c"}]}`,
		`{"v":1,"apps":[{"cached":[{"permissions":{"contents":"read","contents":"write"}}]}]}`,
		`{"v":1,"grants":[{"label":"a","label":"b"}]}`,
	} {
		_, err := DecodeResponse([]byte(line))
		if err == nil || !strings.HasPrefix(err.Error(), "malformed message: ") {
			t.Errorf("DecodeResponse(%s) = %v, want a malformed message", line, err)
		}
	}
}

func TestDecodeIgnoresUnknownKeys(t *testing.T) {
	req, err := DecodeRequest([]byte(`{"v":1,"\u006fp":"get","opx":"lock","future":{"op":"lock"},"cred":{"host":"h","hostname":"x"},` +
		`"apps":[1,{"a":[]}],"later":null}`))
	if err != nil || req.Op != OpGet || req.Cred == nil || req.Cred.Host != "h" {
		t.Fatalf("DecodeRequest = %+v, %v; want op get, host h", req, err)
	}
	resp, err := DecodeResponse([]byte(`{"v":1,"code":"locked","codes":["x"],"apps":[{"cached":[{"permissions":{"Contents":"read","contents":"write"}}]}]}`))
	if err != nil || resp.Code != CodeLocked || resp.Apps[0].Cached[0].Permissions["Contents"] != "read" {
		t.Fatalf("DecodeResponse = %+v, %v; want code locked and both permissions", resp, err)
	}
}

func TestSecretDecodesLikeJSON(t *testing.T) {
	for _, v := range []string{``, `a`, `\u0000\n`, `\"\\\/\b\f\n\r\t`, `\ud83d\ude00`, `\ud83d`, `\ud83dx`, `\ude00\ud83d`,
		`\ud83d\u0041`, "\xff\xfe", "é\u2028", `\uD83D\uDE00`} {
		line := []byte(`{"v":1,"op":"add","secret":"` + v + `"}`)
		req, err := DecodeRequest(line)
		if err != nil {
			t.Fatalf("DecodeRequest(%q) = %v", line, err)
		}
		checkSecretAsJSON(t, line, req.Secret)
	}
	for _, line := range []string{`{"v":1,"op":"add","secret":1}`, `{"v":1,"op":"add","secret":{}}`, `{"v":1,"op":"add","secret":["x"]}`} {
		if _, err := DecodeRequest([]byte(line)); err == nil {
			t.Errorf("DecodeRequest(%s) succeeded, want an error", line)
		}
	}
	if req, err := DecodeRequest([]byte(`{"v":1,"op":"add","secret":null}`)); err != nil || !req.Secret.IsZero() {
		t.Errorf("DecodeRequest(secret null) = %+v, %v; want no secret", req, err)
	}
}

func TestEncodeSecretLikeJSON(t *testing.T) {
	for _, v := range []string{"s", "<&>\"\\\x00\x1f\u2028\u2029", "é\xff", strings.Repeat("x", 1000)} {
		want, err := json.Marshal(struct {
			V      int    `json:"v"`
			Op     string `json:"op"`
			Secret string `json:"secret"`
		}{Version, OpAdd, v})
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeRequest(&Request{V: Version, Op: OpAdd, Secret: NewSecret(v)})
		if err != nil || string(got) != string(want)+"\n" {
			t.Errorf("EncodeRequest(secret %q) = %s, %v; want %s", v, got, err, want)
		}
	}
	if _, err := EncodeResponse(&Response{V: Version, Secret: NewSecret(strings.Repeat("x", MaxMessage))}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("EncodeResponse(huge secret) = %v, want ErrTooLarge", err)
	}
}

func TestReadLineCap(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader(strings.Repeat("a", MaxMessage+10)+"\n"), 4096)
	if _, err := ReadLine(r); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadLine(oversized) = %v, want ErrTooLarge", err)
	}
	r = bufio.NewReader(strings.NewReader("{\"v\":1}\npartial"))
	if l, err := ReadLine(r); err != nil || string(l) != "{\"v\":1}\n" {
		t.Fatalf("ReadLine = %q, %v", l, err)
	}
	if _, err := ReadLine(r); !errors.Is(err, errUnexpectedEOF()) {
		t.Fatalf("ReadLine(partial) = %v, want unexpected EOF", err)
	}
}

// FuzzDecodeRequest: any input either fails to decode or decodes to a
// request that survives an encode/decode round trip unchanged, with the
// secret encoding/json reads in it.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"v":1,"op":"get","cred":{"protocol":"https","host":"github.com","path":"a/b.git"}}`))
	f.Add([]byte(`{"v":1,"op":"add","name":"n","secret":"s","meta":{"hosts":["h"],"expires":"2026-01-02T03:04:05Z"}}`))
	f.Add([]byte(`{"v":1,"op":"unlock","secret":"\u0000\n"}`))
	f.Add([]byte(`{"v":1,"op":"grant","grant":{"urls":["github.com/a/*"],"uids":[1000],"mode":"socket"}}`))
	f.Add([]byte(`{"v":1,"op":"get","OP":"lock","cred":{"host":"a","host":"b"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			return
		}
		checkSecretAsJSON(t, b, req.Secret)
		enc, err := EncodeRequest(req)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return
			}
			t.Fatalf("EncodeRequest(%+v) = %v", req, err)
		}
		again, err := DecodeRequest(enc)
		if err != nil {
			t.Fatalf("DecodeRequest(%q) = %v after a round trip", enc, err)
		}
		if g, w := normal(stripSecret(again)), normal(stripSecret(req)); !reflect.DeepEqual(g, w) || !again.Secret.Equal(req.Secret) {
			t.Fatalf("round trip changed %+v into %+v", w, g)
		}
	})
}

// FuzzDecodeResponse: decoding never panics and round trips.
func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"v":1,"username":"x","secret":"s","expiry":1,"warnings":["w"]}`))
	f.Add([]byte(`{"v":1,"code":"locked","error":"e","hint":"h"}`))
	f.Add([]byte(`{"v":1,"tokens":[{"name":"n","hosts":[],"created":"2026-01-02T03:04:05+02:00"}],"status":{"route_errors":[]}}`))
	f.Add([]byte(`{"v":1,"apps":[{"name":"a","cached":[{"permissions":{},"repositories":[]}]}],"grants":[{"uids":[]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, err := DecodeResponse(b)
		if err != nil {
			return
		}
		checkSecretAsJSON(t, b, resp.Secret)
		enc, err := EncodeResponse(resp)
		if err != nil {
			return
		}
		again, err := DecodeResponse(enc)
		if err != nil {
			t.Fatalf("DecodeResponse(%q) = %v after a round trip", enc, err)
		}
		g, w := *again, *resp
		g.Secret, w.Secret = Secret{}, Secret{}
		if g, w := normal(g), normal(w); !reflect.DeepEqual(g, w) || !again.Secret.Equal(resp.Secret) {
			t.Fatalf("round trip changed %+v into %+v", w, g)
		}
	})
}

// checkSecretAsJSON fails when the secret decoded from line is not the
// string encoding/json reads for its "secret" key.
func checkSecretAsJSON(t *testing.T, line []byte, got Secret) {
	t.Helper()
	var want struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(line, &want); err != nil {
		t.Fatalf("json.Unmarshal(%q) = %v, but the wire decoder accepted it", line, err)
	}
	if !bytes.Equal(got.Bytes(), []byte(want.Secret)) {
		t.Fatalf("secret of %q = %q, encoding/json reads %q", line, got.Bytes(), want.Secret)
	}
}

// normal returns v with what the wire cannot tell apart made equal: an
// empty slice or map and nil (omitempty drops both), and times in
// different zones for the same instant (RFC 3339 keeps the offset, not
// the zone).
func normal[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	normalValue(rv)
	return v
}

func normalValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			c := reflect.New(v.Type().Elem())
			c.Elem().Set(v.Elem())
			normalValue(c.Elem())
			v.Set(c)
		}
	case reflect.Slice:
		if v.Len() == 0 {
			v.SetZero()
			return
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(c, v)
		for i := range c.Len() {
			normalValue(c.Index(i))
		}
		v.Set(c)
	case reflect.Map:
		if v.Len() == 0 {
			v.SetZero()
		}
	case reflect.Struct:
		if tm, ok := v.Interface().(time.Time); ok {
			v.Set(reflect.ValueOf(tm.UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalValue(v.Field(i))
			}
		}
	}
}

func TestNormalMakesWireEqualsEqual(t *testing.T) {
	zone := time.FixedZone("", 0)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, zone)
	a := Request{Meta: &TokenMeta{Hosts: []string{}, Expires: at}, Grant: &GrantSpec{UIDs: []int{}}}
	b := Request{Meta: &TokenMeta{Expires: at.UTC()}, Grant: &GrantSpec{}}
	if !reflect.DeepEqual(normal(a), normal(b)) {
		t.Fatalf("normal(%+v) != normal(%+v)", a, b)
	}
	if len(a.Meta.Hosts) != 0 || a.Meta.Hosts == nil || a.Meta.Expires.Location() != zone {
		t.Fatal("normal changed its argument")
	}
	c := Request{Meta: &TokenMeta{Hosts: []string{"x"}}}
	if reflect.DeepEqual(normal(c), normal(b)) {
		t.Fatal("normal made different requests equal")
	}
}

func errUnexpectedEOF() error { return ioErrUnexpectedEOF }

var ioErrUnexpectedEOF = io.ErrUnexpectedEOF

// BenchmarkDecodeRequest is the agent's cost per git request; checkKeys is
// part of it.
func BenchmarkDecodeRequest(b *testing.B) {
	line := []byte(`{"v":1,"op":"get","cred":{"protocol":"https","host":"github.com","path":"acme/app.git","username":"x-access-token"}}` + "\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckKeys(b *testing.B) {
	line := []byte(`{"v":1,"op":"get","cred":{"protocol":"https","host":"github.com","path":"acme/app.git","username":"x-access-token"}}`)
	sh := requestShape()
	b.ReportAllocs()
	for b.Loop() {
		if err := checkKeys(line, sh); err != nil {
			b.Fatal(err)
		}
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"ghp_abcdefghijklmnopqrstuvwxyz": "ghp_****wxyz",
		"github_pat_11AAAAAAA0abcdWXYZ":  "github_pat_****WXYZ",
		"glpat-abcdefghijkl1234":         "glpat-****1234",
		"plainsecretvalue1234":           "****1234",
		"short":                          "****",
	} {
		if got := Mask(NewSecret(in)); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}
