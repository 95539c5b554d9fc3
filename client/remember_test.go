//go:build linux

package client

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// git's store carries the password and the refresh token to the agent in
// the wire's secret fields, and the expiry in cred; get writes a
// remembered answer as git stored it, and an expired one as the username
// and refresh token alone.
func TestHelperRemembered(t *testing.T) {
	sock := filepath.Join(shortTemp(t), "agent.sock")
	t.Setenv("KEYFOB_SOCKET", sock)
	t.Setenv(AutostartEnv, "0")

	f := startFake(t, sock, `{"v":1}`)
	var out, errb bytes.Buffer
	in := "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=gitlab.example.com\nusername=u\npassword=canaryP\n" +
		"password_expiry_utc=4102444799\noauth_refresh_token=canaryR\n\n"
	if code := GitHelper([]string{"store"}, strings.NewReader(in), &out, &errb); code != 0 || out.Len()+errb.Len() != 0 {
		t.Fatalf("GitHelper(store) = %d, %q, %q; want 0 and silence", code, out.String(), errb.String())
	}
	conns := f.connections(t)
	if len(conns) != 1 {
		t.Fatalf("%d connections, want 1", len(conns))
	}
	req, err := DecodeRequest(conns[0])
	if err != nil {
		t.Fatal(err)
	}
	if req.Secret.Reveal() != "canaryP" || req.Refresh.Reveal() != "canaryR" || req.Cred.PasswordExpiryUTC != 4102444799 || req.Cred.PasswordFP != NewSecret("canaryP").Fingerprint() {
		t.Errorf("store sent %+v %+v (%q, %q), want the password, refresh token and expiry", req, req.Cred, req.Secret.Reveal(), req.Refresh.Reveal())
	}

	for _, tc := range []struct{ name, answer, want string }{
		{"as stored", `{"v":1,"remembered":true,"username":"u","secret":"p","expiry":4102444799,"refresh":"r"}`,
			"username=u\npassword=p\npassword_expiry_utc=4102444799\noauth_refresh_token=r\n"},
		{"empty username and password", `{"v":1,"remembered":true,"token":"remembered:@sso.tld"}`, "username=\npassword=\n"},
		{"expired, with a refresh token", `{"v":1,"remembered":true,"password_expired":true,"username":"u","refresh":"r"}`,
			"username=u\noauth_refresh_token=r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(shortTemp(t), "agent.sock")
			t.Setenv("KEYFOB_SOCKET", sock)
			startFake(t, sock, tc.answer)
			var out, errb bytes.Buffer
			code := GitHelper([]string{"get"}, strings.NewReader("capability[]=state\nprotocol=https\nhost=h\n\n"), &out, &errb)
			if code != 0 || out.String() != tc.want || errb.Len() != 0 {
				t.Errorf("GitHelper(get) = %d, %q, %q; want %q and no stderr", code, out.String(), errb.String(), tc.want)
			}
		})
	}
}

// Both secrets round-trip through the codec, and a second "refresh" key
// makes the line malformed.
func TestWireRefresh(t *testing.T) {
	b, err := EncodeRequest(&Request{V: Version, Op: OpStore, Secret: NewSecret("p\"1"), Refresh: NewSecret("r\\2")})
	if err != nil {
		t.Fatal(err)
	}
	req, err := DecodeRequest(b)
	if err != nil || req.Secret.Reveal() != "p\"1" || req.Refresh.Reveal() != "r\\2" {
		t.Fatalf("round trip = %+v, %v", req, err)
	}
	b, _ = EncodeResponse(&Response{V: Version, Refresh: NewSecret("only")})
	if resp, err := DecodeResponse(b); err != nil || resp.Refresh.Reveal() != "only" || !resp.Secret.IsZero() {
		t.Fatalf("response round trip = %+v, %v (line %s)", resp, err, b)
	}
	if _, err := DecodeRequest([]byte(`{"v":1,"op":"store","refresh":"a","refresh":"b"}`)); err == nil {
		t.Error("a second refresh key was accepted")
	}
}
