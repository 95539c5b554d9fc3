package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/keyfob/keyfob/client"
)

// memScan reads every readable mapping of a process through /proc/PID/mem
// and reports where each needle occurs. The agent is not dumpable, so this
// needs CAP_SYS_PTRACE (root); without it the test cannot look and skips.
type memScan struct {
	pid int
}

// find returns, for each needle found, the mappings that hold it.
func (m memScan) find(t *testing.T, needles map[string][]byte) map[string][]string {
	t.Helper()
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", m.pid))
	if err != nil {
		t.Fatalf("read maps: %v", err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", m.pid))
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("reading a non-dumpable process's memory needs CAP_SYS_PTRACE: %v", err)
	}
	if err != nil {
		t.Fatalf("open mem: %v", err)
	}
	defer mem.Close()
	found := map[string][]string{}
	read := 0
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		// 7f0000000000-7f0000021000 rw-p 00000000 00:00 0    [heap]
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[1][0] != 'r' {
			continue
		}
		name := ""
		if len(f) >= 6 {
			name = f[5]
		}
		if name == "[vvar]" || name == "[vsyscall]" || name == "[vvar_vclock]" {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			t.Fatalf("maps line %q", sc.Text())
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("maps line %q", sc.Text())
		}
		buf := make([]byte, end-start)
		n, err := mem.ReadAt(buf, int64(start))
		if err != nil && n == 0 {
			continue // a mapping the kernel will not read (guard pages)
		}
		read += n
		for k, needle := range needles {
			if i := bytes.Index(buf[:n], needle); i >= 0 {
				where := sc.Text()
				if os.Getenv("KEYFOB_MEMSCAN_DEBUG") != "" {
					for j := i; j >= 0; {
						lo, hi := max(j-96, 0), min(j+len(needle)+96, n)
						where += fmt.Sprintf("\n    at %#x: %q", start+uint64(j), buf[lo:hi])
						k := bytes.Index(buf[j+1:n], needle)
						if k < 0 {
							break
						}
						j += 1 + k
					}
				}
				found[k] = append(found[k], where)
			}
		}
	}
	if read == 0 {
		t.Fatal("read no memory at all")
	}
	return found
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestLockLeavesNoSecretInMemory runs a real agent with the file backend
// and its passphrase in KEYFOB_FILE_PASSPHRASE, sends a token through add
// and token, and git's get, store and erase, and after keyfob lock reads the whole of the agent's memory:
// neither the token nor the passphrase may be anywhere in it. Before the
// lock both are found, which proves the scan sees them.
func TestLockLeavesNoSecretInMemory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("reading a non-dumpable agent's memory needs root (CAP_SYS_PTRACE)")
	}
	bin := buildBinaries(t, "")
	keyfob := filepath.Join(bin, "keyfob")
	s := newSession(t)
	pass := "kf-pass-" + randomHex(t, 12)
	token := "ghp_memcanary" + randomHex(t, 14)
	env := append([]string{}, s.env...)
	for i, kv := range env {
		if strings.HasPrefix(kv, "KEYFOB_FILE_PASSPHRASE=") {
			env[i] = "KEYFOB_FILE_PASSPHRASE=" + pass
		}
	}
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(keyfob, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	agent := exec.Command(keyfob, "serve")
	agent.Env = env
	var logs bytes.Buffer
	agent.Stdout, agent.Stderr = &logs, &logs
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = agent.Process.Signal(syscall.SIGTERM)
		_ = agent.Wait()
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})
	if st := waitAnswer(t, s.sock); st.Locked || st.PID != agent.Process.Pid {
		t.Fatalf("status = %+v, want unlocked, pid %d", st, agent.Process.Pid)
	}
	pid := agent.Process.Pid

	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatalf("read environ: %v", err)
	}
	if bytes.Contains(environ, []byte("KEYFOB_FILE_PASSPHRASE")) || bytes.Contains(environ, []byte(pass)) {
		t.Errorf("/proc/%d/environ still holds the passphrase:\n%s", pid, bytes.ReplaceAll(environ, []byte{0}, []byte{'\n'}))
	}

	if out, err := run(token+"\n", "add", "canary", "--host", "git.example.test"); err != nil {
		t.Fatalf("keyfob add: %v\n%s", err, out)
	}
	if out, err := run("", "token", "canary"); err != nil || strings.TrimSpace(out) != token {
		t.Fatalf("keyfob token canary = %q, %v; want the token", out, err)
	}
	// git's side too: the agent parses git's lines and writes git's
	// answer itself, and git hands the token back with store and erase.
	helper := func(op, stdin string) string {
		cmd := exec.Command(filepath.Join(bin, "git-credential-keyfob"), op)
		cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git-credential-keyfob %s: %v", op, err)
		}
		return string(out)
	}
	if out := helper("get", "protocol=https\nhost=git.example.test\n\n"); !strings.Contains(out, "password="+token+"\n") {
		t.Fatalf("git-credential-keyfob get = %q, want the token", out)
	}
	helper("store", "protocol=https\nhost=git.example.test\nusername=x-access-token\npassword="+token+"\n\n")
	helper("erase", "protocol=https\nhost=git.example.test\nusername=x-access-token\npassword="+token+"x\n\n")
	needles := map[string][]byte{"token": []byte(token), "passphrase": []byte(pass)}
	// Keychain items carry their data base64-encoded inside the file
	// backend's JSON: look for the token in that form too, at each of the
	// three alignments a base64 encoder can meet it.
	for a := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(token)[a:])
		needles[fmt.Sprintf("token (base64, offset %d)", a)] = []byte(enc[:len(enc)-4])
	}
	for pre := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(`"`, pre) + token + `","meta"`))
		if !slices.ContainsFunc([]int{0, 1, 2}, func(a int) bool {
			return strings.Contains(enc, string(needles[fmt.Sprintf("token (base64, offset %d)", a)]))
		}) {
			t.Fatalf("no base64 needle matches the token after %d bytes: %s", pre, enc)
		}
	}
	scan := memScan{pid: pid}
	// The agent holds both while unlocked: a scan that does not find them
	// proves nothing after the lock.
	if found := scan.find(t, needles); len(found["token"]) == 0 || len(found["passphrase"]) == 0 {
		t.Fatalf("before lock the scan found %v; want the token and the passphrase", found)
	}

	lockAndScan := func(when string) {
		t.Helper()
		if out, err := run("", "lock"); err != nil {
			t.Fatalf("keyfob lock: %v\n%s", err, out)
		}
		for what, where := range scan.find(t, needles) {
			t.Errorf("%s: the %s is still in the agent's memory, in:\n  %s", when, what, strings.Join(where, "\n  "))
		}
	}
	lockAndScan("after the first lock")

	// The passphrase from the environment was used once, at start: a lock
	// drops it, and unlock needs it again.
	resp, err := client.Call(s.sock, &client.Request{Op: client.OpUnlock})
	if err == nil || !strings.Contains(err.Error(), "needs a passphrase") {
		t.Fatalf("unlock without a passphrase = %+v, %v; want an error saying it needs a passphrase", resp, err)
	}
	if out, err := run("", "unlock"); err == nil {
		t.Fatalf("keyfob unlock with nothing on stdin succeeded:\n%s", out)
	}
	if out, err := run(pass+"\n", "unlock"); err != nil {
		t.Fatalf("keyfob unlock with the passphrase: %v\n%s", err, out)
	}
	if out, err := run("", "token", "canary"); err != nil || strings.TrimSpace(out) != token {
		t.Fatalf("keyfob token canary after unlock = %q, %v; want the token", out, err)
	}
	// The passphrase came over the socket this time.
	lockAndScan("after unlock from the socket and a second lock")
}

// TestServePassphraseSources starts the agent with its passphrase from a
// systemd credential, and refuses a KEYFOB_PASSPHRASE_FD that names a
// socket (an activated listener is never a passphrase).
func TestServePassphraseSources(t *testing.T) {
	bin := buildBinaries(t, "-s -w")
	keyfob := filepath.Join(bin, "keyfob")
	s := newSession(t)
	var env []string
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "KEYFOB_FILE_PASSPHRASE=") {
			env = append(env, kv)
		}
	}
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "keyfob-passphrase"), []byte("from a credential\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	agent := exec.Command(keyfob, "serve")
	agent.Env = append(env, "CREDENTIALS_DIRECTORY="+creds)
	var logs bytes.Buffer
	agent.Stdout, agent.Stderr = &logs, &logs
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	if st := waitAnswer(t, s.sock); st.Locked {
		t.Errorf("agent with a credential: status %+v, want unlocked\n%s", st, logs.String())
	}
	_ = agent.Process.Signal(syscall.SIGTERM)
	_ = agent.Wait()
	// The credential's passphrase, without its newline, is the keyring's.
	unlock := exec.Command(keyfob, "serve")
	unlock.Env = env
	if err := unlock.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unlock.Process.Signal(syscall.SIGTERM); _ = unlock.Wait() }()
	waitAnswer(t, s.sock)
	if _, err := client.Call(s.sock, &client.Request{Op: client.OpUnlock, Secret: client.NewSecret("from a credential")}); err != nil {
		t.Errorf("unlock with the credential's passphrase: %v", err)
	}

	sp, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	sock := os.NewFile(uintptr(sp[0]), "socket")
	defer sock.Close()
	defer syscall.Close(sp[1])
	refused := exec.Command(keyfob, "serve")
	refused.Env = append(env, "KEYFOB_PASSPHRASE_FD=3", "KEYFOB_SOCKET="+filepath.Join(t.TempDir(), "other.sock"))
	refused.ExtraFiles = []*os.File{sock}
	out, err := refused.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not a pipe or a file") {
		t.Errorf("serve with KEYFOB_PASSPHRASE_FD naming a socket = %v\n%s; want a refusal", err, out)
	}
}
