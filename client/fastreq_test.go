package client

import (
	"reflect"
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

// TestGitRequestFastPath checks the helper's own lines take the fast path,
// and that lines it must not take fall back.
func TestGitRequestFastPath(t *testing.T) {
	c := &Credential{Protocol: "https", Host: "github.com", Path: "acme/app.git", Username: "x-access-token", PasswordFP: "sha256:ab", State: "keyfob:work:ab"}
	for _, op := range []string{OpGet, OpStore, OpErase} {
		line := appendGitRequest(nil, op, c)
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
