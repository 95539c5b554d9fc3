package plaintext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyfob/keyfob/client"
)

func write(t *testing.T, name, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadGitCredentials(t *testing.T) {
	p := write(t, "creds", "https://bob%40corp:tok%2Fen@git.example.com\n"+
		"smtp://x:y@mail.example.com\n"+
		"http://a:b@github.com\n"+
		"http://a:loop@127.0.0.1:8080\n"+
		"https://nopass@github.com\n"+
		"not a url\n")
	fs, err := ReadGitCredentials(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("ReadGitCredentials = %d entries, want 2 (https, and http to loopback)", len(fs))
	}
	if f := fs[0]; f.Username != "bob@corp" || f.Secret.Reveal() != "tok/en" || f.Host != "git.example.com" || f.Line != 1 || f.Name() != "git:bob@corp@git.example.com" {
		t.Errorf("first entry = %+v (%s)", f, f.Name())
	}
	if f := fs[1]; f.Host != "127.0.0.1:8080" || f.Protocol != "http" || f.Line != 4 {
		t.Errorf("second entry = %+v", f)
	}
}

func TestReadGHLayouts(t *testing.T) {
	dir := t.TempDir()
	// The multi-account layout, with one user's token in gh's keyring.
	if err := os.WriteFile(filepath.Join(dir, "hosts.yml"), []byte("ghe.example.com:\n    users:\n        alice:\n            oauth_token: gho_a\n        bob:\n    user: bob\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	asked := 0
	fs, err := ReadGH(dir, func(host, user string, active bool) (client.Secret, error) {
		asked++
		if host != "ghe.example.com" || user != "bob" || !active {
			t.Errorf("tokenOf(%q, %q, %v)", host, user, active)
		}
		return client.NewSecret("gho_b"), nil
	})
	if err != nil || len(fs) != 2 || asked != 1 {
		t.Fatalf("ReadGH = %d entries, %v (asked gh %d times)", len(fs), err, asked)
	}
	if fs[0].Name() != "gh:alice@ghe.example.com" || fs[0].Path == "" || fs[1].Name() != "gh:bob@ghe.example.com" || fs[1].Path != "" {
		t.Errorf("entries = %s (%s), %s (%s)", fs[0].Name(), fs[0].Location(), fs[1].Name(), fs[1].Location())
	}
	// Scrubbing leaves the keyring's token alone and the file's other keys.
	if err := Scrub(fs); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "hosts.yml"))
	if s := string(b); contains(s, "gho_a") || !contains(s, "bob") || !contains(s, "alice") {
		t.Errorf("hosts.yml after scrub:\n%s", s)
	}
}

func TestNetrcSharedLineIsNotScrubbed(t *testing.T) {
	p := write(t, "netrc", "machine a.example.com login x password t1 machine b.example.com login y password t2\n")
	fs, err := ReadNetrc(p)
	if err != nil || len(fs) != 2 {
		t.Fatalf("ReadNetrc = %d, %v", len(fs), err)
	}
	if err := Scrub(fs[:1]); err == nil {
		t.Fatal("Scrub of an entry sharing its line succeeded")
	}
	if b, _ := os.ReadFile(p); !contains(string(b), "t1") {
		t.Error("the file changed anyway")
	}
}

func TestScrubRefusesAChangedFile(t *testing.T) {
	p := write(t, "creds", "https://u:t1@example.com\n")
	fs, _ := ReadGitCredentials(p)
	if err := os.WriteFile(p, []byte("https://u:t2@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Scrub(fs); err == nil {
		t.Fatal("Scrub of a file that changed since it was read succeeded")
	}
	if b, _ := os.ReadFile(p); string(b) != "https://u:t2@example.com\n" {
		t.Errorf("file = %q", b)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestImportDoesNotWiden: a credential git's store keeps for one
// repository is not imported as a token for the whole host.
func TestImportDoesNotWiden(t *testing.T) {
	p := write(t, "creds", "https://u:ghp_scoped@github.com/acme/app.git\n")
	fs, err := ReadGitCredentials(p)
	if err != nil || len(fs) != 1 || fs[0].RepoPath != "acme/app.git" {
		t.Fatalf("ReadGitCredentials = %+v, %v", fs, err)
	}
	added := 0
	call := func(req *client.Request) (*client.Response, error) {
		if req.Op == client.OpAdd {
			added++
		}
		return &client.Response{}, nil
	}
	rs, err := Import(call, fs, "")
	if err != nil || len(rs) != 1 || rs[0].Err == nil || added != 0 {
		t.Errorf("Import = %+v, %v (%d adds), want a refusal and no add", rs, err, added)
	}
}
