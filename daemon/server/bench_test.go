package server

import (
	"bufio"
	"bytes"
	"net"
	"testing"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/pump"
	"github.com/keyfob/keyfob/daemon/listen"
)

// benchGet starts an agent holding one token and returns its socket and
// the bytes of git's get for it.
func benchGet(b *testing.B) (*fixture, []byte) {
	f := start(b, &Server{}, listen.Options{})
	b.Cleanup(f.stop)
	f.a.Wait()
	add := &client.Request{Op: client.OpAdd, Name: "work", Meta: &client.TokenMeta{Hosts: []string{"github.com"}}, Secret: client.NewSecret(canary)}
	if r, err := client.Call(f.sock, add); err != nil || r.Code != "" {
		b.Fatalf("add: %v %v", r, err)
	}
	return f, pump.AppendRequest(nil, "get", []byte("protocol=https\nhost=github.com\n"))
}

// benchJSONGet is git's get on the JSON wire (keyfob exec, keyfob token).
func benchJSONGet(b *testing.B) (*fixture, []byte) {
	f, _ := benchGet(b)
	req, err := client.EncodeRequest(&client.Request{V: client.Version, Op: client.OpGet, Cred: &client.Credential{Protocol: "https", Host: "github.com"}})
	if err != nil {
		b.Fatal(err)
	}
	return f, req
}

// BenchmarkOneShotGet measures a git get as git-credential-keyfob makes it, one
// connection per request, over the real socket, audit on: accept, peer
// check, decode, policy, the audit line, the answer. Client and agent share
// the process, so ns/op is both sides; allocs/op too.
func BenchmarkOneShotGet(b *testing.B) {
	f, req := benchGet(b)
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		c, err := net.Dial("unix", f.sock)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		// As git-credential-keyfob does.
		c.(*net.UnixConn).CloseWrite()
		n, err := c.Read(buf)
		if err != nil || !bytes.Contains(buf[:n], []byte("o password=")) {
			b.Fatalf("get: %q %v", buf[:n], err)
		}
		c.Close()
	}
}

// BenchmarkPersistentJSONGet is git's get on one connection, in the
// wire's JSON.
func BenchmarkPersistentJSONGet(b *testing.B) {
	f, req := benchJSONGet(b)
	benchPersistent(b, f, req, func(r *bufio.Reader) bool {
		line, err := r.ReadSlice('\n')
		return err == nil && bytes.Contains(line, []byte(`"secret"`))
	})
}

// BenchmarkPersistentGet is BenchmarkOneShotGet on one connection.
func BenchmarkPersistentGet(b *testing.B) {
	f, req := benchGet(b)
	benchPersistent(b, f, req, readAnswer)
}

// benchPersistent sends req on one connection for each round and reads
// the answer with read, which reports whether it carried the token.
func benchPersistent(b *testing.B, f *fixture, req []byte, read func(*bufio.Reader) bool) {
	c, err := net.Dial("unix", f.sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if !read(r) {
			b.Fatal("get: no token in the answer")
		}
	}
}

// readAnswer reads one answer in git's terms and reports whether it
// carried a password.
func readAnswer(r *bufio.Reader) bool {
	got := false
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return false
		}
		got = got || bytes.HasPrefix(line, []byte("o password="))
		if line[0] == 'x' {
			return got
		}
	}
}
