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
// request that survives an encode/decode round trip unchanged.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"v":1,"op":"get","cred":{"protocol":"https","host":"github.com","path":"a/b.git"}}`))
	f.Add([]byte(`{"v":1,"op":"add","name":"n","secret":"s","meta":{"hosts":["h"],"expires":"2026-01-02T03:04:05Z"}}`))
	f.Add([]byte(`{"v":1,"op":"unlock","secret":"\u0000\n"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			return
		}
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
		if !reflect.DeepEqual(stripSecret(again), stripSecret(req)) || !again.Secret.Equal(req.Secret) {
			t.Fatalf("round trip changed %+v into %+v", req, again)
		}
	})
}

// FuzzDecodeResponse: decoding never panics and round trips.
func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte(`{"v":1,"username":"x","secret":"s","expiry":1,"warnings":["w"]}`))
	f.Add([]byte(`{"v":1,"code":"locked","error":"e","hint":"h"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, err := DecodeResponse(b)
		if err != nil {
			return
		}
		enc, err := EncodeResponse(resp)
		if err != nil {
			return
		}
		again, err := DecodeResponse(enc)
		if err != nil || again.Code != resp.Code || !again.Secret.Equal(resp.Secret) || again.Expiry != resp.Expiry {
			t.Fatalf("round trip changed %+v into %+v (%v)", resp, again, err)
		}
	})
}

func errUnexpectedEOF() error { return ioErrUnexpectedEOF }

var ioErrUnexpectedEOF = io.ErrUnexpectedEOF
