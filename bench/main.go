// Command bench measures keyfob against the tools a user would pick
// instead, in one run on one machine, and writes docs/benchmarks.md.
//
// It times whole processes: git-credential-keyfob get, git credential-cache
// get, git-credential-libsecret get (against a real gnome-keyring, when a
// session bus is there), gh auth token, and a static do-nothing Go binary as
// the floor; then git credential fill through each helper. Contenders
// alternate in a fresh random order every round. Then it loads a real agent
// with 1 to 512 concurrent clients over its Unix socket, audit log on.
//
// make bench runs it inside a private D-Bus session with gnome-keyring
// unlocked. Nothing here prints a secret: the tokens are random, and outputs
// are only checked for the presence of a password line.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/keyfob/keyfob/bench/internal/agentproc"
	"github.com/keyfob/keyfob/client"
)

// host is the remote every contender holds a credential for. github.com,
// because gh answers git only for hosts it knows.
const host = "github.com"

var gitInput = []byte("protocol=https\nhost=" + host + "\n\n")

func main() {
	bin := flag.String("bin", "bin", "directory with keyfob and git-credential-keyfob")
	rounds := flag.Int("n", 300, "timed rounds per contender")
	warm := flag.Int("warmup", 20, "untimed rounds first")
	loadDur := flag.Duration("load", 2*time.Second, "duration of each load run")
	tokens := flag.Int("tokens", 1000, "tokens held for the memory and load-with-many-tokens measurements")
	out := flag.String("out", "", "write the report (markdown) here as well as to stdout")
	flag.Parse()
	if err := run(*bin, *rounds, *warm, *loadDur, *tokens, *out); err != nil {
		fmt.Fprintf(os.Stderr, "bench: error: %v\n", err)
		os.Exit(1)
	}
}

func run(bin string, rounds, warm int, loadDur time.Duration, tokens int, out string) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "keyfob-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var r report
	r.machine = machine()
	r.rounds, r.warm, r.loadDur = rounds, warm, loadDur

	ag, err := agentproc.New(filepath.Join(bin, "keyfob"), filepath.Join(tmp, "keyfob"))
	if err != nil {
		return err
	}
	if err := ag.Start(); err != nil {
		return err
	}
	defer ag.Stop()
	if err := agentproc.Add(ag.Socket, "bench", randomToken(), host); err != nil {
		return fmt.Errorf("add bench token: %w", err)
	}

	procs, cleanup, err := contenders(tmp, bin, ag)
	defer cleanup()
	if err != nil {
		return err
	}
	for _, c := range procs {
		if c.skip == "" {
			c.skip = c.check()
		}
		if c.skip != "" {
			fmt.Fprintf(os.Stderr, "bench: skip %s: %s\n", c.name, c.skip)
		}
	}
	fmt.Fprintf(os.Stderr, "bench: %d warm-up and %d timed rounds of %d processes\n", warm, rounds, len(procs))
	timeRounds(procs, warm, rounds)
	for _, p := range procs {
		if p.skip == "" && len(p.then) == 0 {
			p.measureRSS(filepath.Join(tmp, "rss"), 10)
		}
	}
	r.procs = procs

	fmt.Fprintln(os.Stderr, "bench: agent under load")
	if r.load, err = loadSuite(ag, loadDur, tokens, &r); err != nil {
		return err
	}

	var buf bytes.Buffer
	r.write(&buf)
	os.Stdout.Write(buf.Bytes())
	if out != "" {
		return os.WriteFile(out, buf.Bytes(), 0o644)
	}
	return nil
}

// randomToken is a fresh, throwaway token in GitHub's classic format.
func randomToken() client.Secret {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return client.NewSecret("ghp_" + hex.EncodeToString(b))
}

// proc is one contender: a command run as a whole process, again and again.
type proc struct {
	name  string
	group string // "get" or "fill"
	argv  []string
	// then, if set, runs after argv with argv's output on its stdin (git
	// credential approve after fill); the run's figures cover both.
	then  []string
	env   []string
	stdin []byte
	// want is what stdout must contain for a run to count.
	want string
	skip string

	wall   []time.Duration
	cpu    []time.Duration
	maxrss []int64 // bytes
	fails  int
}

func (p *proc) runOnce() (time.Duration, time.Duration, []byte, error) {
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = p.env
	cmd.Stdin = bytes.NewReader(p.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	ps := cmd.ProcessState
	var cpu time.Duration
	if len(p.then) > 0 && err == nil {
		cpu = ps.UserTime() + ps.SystemTime()
		next := exec.Command(p.then[0], p.then[1:]...)
		next.Env, next.Stdin, next.Stderr = p.env, bytes.NewReader(stdout.Bytes()), &stderr
		err = next.Run()
		ps = next.ProcessState
	}
	d := time.Since(t0)
	if ps != nil {
		cpu += ps.UserTime() + ps.SystemTime()
	}
	if err == nil && !bytes.Contains(stdout.Bytes(), []byte(p.want)) {
		err = fmt.Errorf("no %q in its output; stderr: %s", p.want, firstLine(stderr.String()))
	} else if err != nil {
		err = fmt.Errorf("%w; stderr: %s", err, firstLine(stderr.String()))
	}
	return d, cpu, stdout.Bytes(), err
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// check runs p once and returns why it cannot be timed, or "".
func (p *proc) check() string {
	if _, _, _, err := p.runOnce(); err != nil {
		return err.Error()
	}
	return ""
}

func (p *proc) record() {
	d, cpu, _, err := p.runOnce()
	if err != nil {
		p.fails++
		return
	}
	p.wall = append(p.wall, d)
	p.cpu = append(p.cpu, cpu)
}

// measureRSS runs p through the small rss starter (bench/rss) n times and
// records the child's peak RSS. It is kept apart from the timed runs.
func (p *proc) measureRSS(starter string, n int) {
	q := *p
	prog, err := exec.LookPath(p.argv[0])
	if err != nil {
		return
	}
	q.argv = append([]string{starter, prog}, p.argv[1:]...)
	for range n {
		cmd := exec.Command(q.argv[0], q.argv[1:]...)
		cmd.Env, cmd.Stdin = q.env, bytes.NewReader(q.stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			continue
		}
		i := strings.LastIndex(stderr.String(), "maxrss_kib=")
		if i < 0 {
			continue
		}
		var kib int64
		if _, err := fmt.Sscanf(stderr.String()[i:], "maxrss_kib=%d", &kib); err == nil {
			p.maxrss = append(p.maxrss, kib<<10)
		}
	}
}

// timeRounds runs every contender once per round, in a new random order
// each round, so drift on the machine spreads over all of them.
func timeRounds(procs []*proc, warm, rounds int) {
	var live []*proc
	for _, p := range procs {
		if p.skip == "" {
			live = append(live, p)
		}
	}
	for i := 0; i < warm; i++ {
		for _, p := range live {
			_, _, _, _ = p.runOnce()
		}
	}
	for i := 0; i < rounds; i++ {
		mrand.Shuffle(len(live), func(a, b int) { live[a], live[b] = live[b], live[a] })
		for _, p := range live {
			p.record()
		}
	}
}

// contenders sets up every tool with a credential for host and returns the
// processes to time. cleanup stops what was started.
func contenders(tmp, bin string, ag *agentproc.Agent) ([]*proc, func(), error) {
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, cleanup, err
	}
	gitEnv := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		gitEnv = append(gitEnv, "DBUS_SESSION_BUS_ADDRESS="+a)
	}
	fill := func(name, helper string, env []string) *proc {
		return &proc{name: name, group: "fill", env: env, stdin: gitInput, want: "password=",
			argv: []string{"git", "-c", "credential.helper=", "-c", "credential.helper=" + helper, "credential", "fill"}}
	}
	// fetch is what git runs around a fetch that needed a credential:
	// fill, then approve with what fill printed.
	fetch := func(name, helper string, env []string) *proc {
		p := fill(name, helper, env)
		p.group = "fetch"
		p.then = slices.Clone(p.argv)
		p.then[len(p.then)-1] = "approve"
		return p
	}
	var procs []*proc

	// The floor: a static Go binary that starts and exits.
	floor := filepath.Join(tmp, "floor")
	for _, tool := range []string{"floor", "rss", "floorsrv"} {
		build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(tmp, tool), "./bench/"+tool)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := build.CombinedOutput(); err != nil {
			return nil, cleanup, fmt.Errorf("build %s: %v: %s", tool, err, b)
		}
	}
	// The Go floor: the same static binary, doing one round trip over a
	// Unix socket to a Go server that answers at once (bench/floorsrv).
	floorSock := filepath.Join(tmp, "floor.sock")
	srv, err := startFloorServer(filepath.Join(tmp, "floorsrv"), floorSock)
	if err != nil {
		return nil, cleanup, err
	}
	cleanups = append(cleanups, func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	floorPID, floorSocket = srv.Process.Pid, floorSock
	genv := append(slices.Clone(gitEnv), "FLOOR_SOCKET="+floorSock)
	procs = append(procs,
		&proc{name: "floor (static Go, does nothing)", group: "get", argv: []string{floor, "get"}, env: gitEnv, stdin: gitInput, want: "password="},
		&proc{name: goFloor + " (static Go, one socket round trip)", group: "get", argv: []string{floor, "get"}, env: genv, stdin: gitInput, want: "password="},
		fill("floor", floor, gitEnv), fill(goFloor, floor, genv), fetch(goFloor, floor, genv))

	// keyfob.
	helper := filepath.Join(bin, "git-credential-keyfob")
	kenv := append(slices.Clone(gitEnv), "KEYFOB_SOCKET="+ag.Socket)
	procs = append(procs,
		&proc{name: "git-credential-keyfob get", group: "get", argv: []string{helper, "get"}, env: kenv, stdin: gitInput, want: "password="},
		// The helper against the Go floor server: what the helper's own
		// process costs over the Go floor, the agent's share left out.
		&proc{name: "helper get, answered by the Go floor server", group: "get", argv: []string{helper, "get"},
			env: append(slices.Clone(gitEnv), "KEYFOB_SOCKET="+floorSocket), stdin: gitInput, want: "password="},
		fill("keyfob", helper, kenv), fetch("keyfob", helper, kenv))

	// git credential-cache, with its daemon started by a store.
	sock := filepath.Join(tmp, "cache", "socket")
	cacheArgs := []string{"git", "credential-cache", "--timeout=86400", "--socket=" + sock}
	store := exec.Command(cacheArgs[0], append(cacheArgs[1:], "store")...)
	store.Env = gitEnv
	store.Stdin = io.MultiReader(bytes.NewReader(bytes.TrimSuffix(gitInput, []byte("\n"))),
		strings.NewReader("username=x-access-token\npassword="+randomToken().Reveal()+"\n\n"))
	cacheSkip := ""
	if b, err := store.CombinedOutput(); err != nil {
		cacheSkip = fmt.Sprintf("git credential-cache store: %v: %s", err, firstLine(string(b)))
	}
	cleanups = append(cleanups, func() {
		c := exec.Command(cacheArgs[0], append(cacheArgs[1:], "exit")...)
		c.Env = gitEnv
		_ = c.Run()
	})
	procs = append(procs,
		&proc{name: "git credential-cache get", group: "get", argv: append(slices.Clone(cacheArgs), "get"), env: gitEnv, stdin: gitInput, want: "password=", skip: cacheSkip},
		fill("credential-cache", "cache --timeout=86400 --socket="+sock, gitEnv),
		fetch("credential-cache", "cache --timeout=86400 --socket="+sock, gitEnv))
	procs[len(procs)-1].skip, procs[len(procs)-2].skip = cacheSkip, cacheSkip

	// git-credential-libsecret, built from git's contrib source, against
	// the session's gnome-keyring.
	ls, lsSkip := buildLibsecret(tmp)
	if lsSkip == "" {
		st := exec.Command(ls, "store")
		st.Env = gitEnv
		st.Stdin = strings.NewReader(strings.TrimSuffix(string(gitInput), "\n") + "username=x-access-token\npassword=" + randomToken().Reveal() + "\n\n")
		if b, err := st.CombinedOutput(); err != nil {
			lsSkip = fmt.Sprintf("git-credential-libsecret store: %v: %s", err, firstLine(string(b)))
		}
		cleanups = append(cleanups, func() {
			c := exec.Command(ls, "erase")
			c.Env, c.Stdin = gitEnv, bytes.NewReader(gitInput)
			_ = c.Run()
		})
	}
	procs = append(procs,
		&proc{name: "git-credential-libsecret get", group: "get", argv: []string{ls, "get"}, env: gitEnv, stdin: gitInput, want: "password=", skip: lsSkip},
		fill("libsecret", ls, gitEnv))
	procs[len(procs)-1].skip = lsSkip

	// gh, with a token in a private config directory.
	ghDir := filepath.Join(tmp, "gh")
	if err := os.MkdirAll(ghDir, 0o700); err != nil {
		return nil, cleanup, err
	}
	hosts := fmt.Sprintf("%s:\n    oauth_token: %s\n    user: bench\n    git_protocol: https\n", host, randomToken().Reveal())
	if err := os.WriteFile(filepath.Join(ghDir, "hosts.yml"), []byte(hosts), 0o600); err != nil {
		return nil, cleanup, err
	}
	ghEnv := append(slices.Clone(gitEnv), "GH_CONFIG_DIR="+ghDir, "GH_NO_UPDATE_NOTIFIER=1", "GH_PROMPT_DISABLED=1")
	ghSkip := ""
	if _, err := exec.LookPath("gh"); err != nil {
		ghSkip = "gh is not installed (apt-get install gh)"
	}
	procs = append(procs,
		&proc{name: "gh auth token", group: "get", argv: []string{"gh", "auth", "token"}, env: ghEnv, want: "ghp_", skip: ghSkip},
		fill("gh", "!gh auth git-credential", ghEnv))
	procs[len(procs)-1].skip = ghSkip
	return procs, cleanup, nil
}

// buildLibsecret compiles git's contrib git-credential-libsecret into tmp.
// It returns the binary, or why it cannot run here.
func buildLibsecret(tmp string) (string, string) {
	src := "/usr/share/doc/git/contrib/credential/libsecret/git-credential-libsecret.c"
	if _, err := os.Stat(src); err != nil {
		return "", "git's contrib source is missing (" + src + ")"
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a == "" || strings.HasPrefix(a, "disabled:") {
		return "", "no session bus with gnome-keyring: run through make bench, which starts one"
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libsecret-1", "glib-2.0").Output()
	if err != nil {
		return "", "pkg-config cannot find libsecret-1 (apt-get install libsecret-1-dev pkg-config)"
	}
	binPath := filepath.Join(tmp, "git-credential-libsecret")
	args := append([]string{"-O2", "-o", binPath, src}, strings.Fields(string(flags))...)
	if b, err := exec.Command("cc", args...).CombinedOutput(); err != nil {
		return "", fmt.Sprintf("cc git-credential-libsecret: %v: %s", err, firstLine(string(b)))
	}
	return binPath, ""
}

// stats summarises samples.
type stats struct {
	n                  int
	med, p10, p90, mad float64
}

func summarize(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	slices.Sort(xs)
	s := stats{n: len(xs), med: quantile(xs, 0.5), p10: quantile(xs, 0.1), p90: quantile(xs, 0.9)}
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - s.med)
	}
	slices.Sort(dev)
	s.mad = quantile(dev, 0.5)
	return s
}

// quantile of sorted xs, by linear interpolation.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (pos-float64(i))*(xs[i+1]-xs[i])
}

func machine() [][2]string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	gitv, _ := exec.Command("git", "--version").Output()
	ghv, _ := exec.Command("gh", "--version").Output()
	return [][2]string{
		{"CPUs (nproc)", fmt.Sprint(runtime.NumCPU())},
		{"CPU model", cpu},
		{"kernel", kernel},
		{"Go", runtime.Version()},
		{"git", strings.TrimSpace(string(gitv))},
		{"gh", firstLine(string(ghv))},
		{"date", time.Now().UTC().Format("2006-01-02 15:04 UTC")},
	}
}
