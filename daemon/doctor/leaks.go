package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/daemon/plaintext"
	"github.com/keyfob/keyfob/daemon/setup"
)

// CheckLeaks is the area of plaintext tokens and loose permissions.
const CheckLeaks = "leaks"

// Where doctor looks for what leaks; empty fields mean the user's own.
type leakPlaces struct {
	home, xdgConfig, ghConfig string
	environ                   []string
	stateDir, keyringDir      string
	auditPath, configPath     string
	socket                    string
}

func (o Options) leakPlaces() leakPlaces {
	p := leakPlaces{home: o.Home, environ: o.Environ, socket: o.Socket, configPath: o.ConfigPath,
		stateDir: o.StateDir, xdgConfig: os.Getenv("XDG_CONFIG_HOME"), ghConfig: os.Getenv("GH_CONFIG_DIR")}
	if p.home == "" {
		p.home, _ = os.UserHomeDir()
	}
	if p.environ == nil {
		p.environ = os.Environ()
	}
	if p.stateDir == "" {
		p.stateDir = client.StateDir()
	}
	p.keyringDir = filepath.Join(p.stateDir, "keyring")
	p.auditPath = filepath.Join(p.stateDir, "audit.log")
	return p
}

// leaks reports plaintext tokens keyfob could hold instead (never the
// token: the file, the line and the masked value), tokens exported in the
// environment, and files of keyfob's that others can read or write.
func (r *report) leaks(p leakPlaces) {
	found := 0
	plain := func(kind string, fs []plaintext.Found, err error) {
		defer plaintext.Wipe(fs)
		if err != nil {
			if !errors.Is(err, plaintext.ErrNoSource) {
				r.problem(CheckLeaks, err.Error(), "")
			}
			return
		}
		for _, f := range fs {
			if f.Path == "" {
				continue // gh keeps it in a keyring, not in a file
			}
			found++
			r.problem(CheckLeaks, fmt.Sprintf("a plaintext token (%s) for %s at %s", client.Mask(f.Secret), f.Host, f.Location()),
				"keyfob import "+kind+" --remove")
		}
	}
	for _, path := range plaintext.GitCredentialFiles(p.home, p.xdgConfig) {
		fs, err := plaintext.ReadGitCredentials(path)
		plain(plaintext.GitCredentials, fs, err)
	}
	fs, err := plaintext.ReadGH(plaintext.GHConfigDir(p.ghConfig, p.xdgConfig, p.home), nil)
	plain(plaintext.GH, fs, err)
	fs, err = plaintext.ReadNetrc(filepath.Join(p.home, ".netrc"))
	plain(plaintext.Netrc, fs, err)
	if found == 0 {
		r.ok(CheckLeaks, "no plaintext tokens in git's store, gh's hosts.yml or ~/.netrc")
	}
	for _, kv := range p.environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN":
			if v != "" {
				r.problem(CheckLeaks, fmt.Sprintf("%s is exported in this shell (%s): every process started from it holds the token", k, client.Mask(client.NewSecret(v))),
					"unset "+k+" and run gh as keyfob exec -- gh …")
			}
		}
	}
	r.perms(p)
	r.ghLoaded(p.home)
}

// ghLoaded says whether a shell's rc file loads keyfob's gh function.
func (r *report) ghLoaded(home string) {
	var in []string
	for _, sh := range setup.Shells {
		rc, line, err := setup.GHLoader(sh, home)
		if err != nil {
			continue
		}
		if ok, _ := setup.GHInstalled(rc, line); ok {
			in = append(in, rc)
		}
	}
	if len(in) == 0 {
		r.ok(CheckLeaks, "plain gh does not go through keyfob in any shell's rc file (keyfob setup gh --install makes it)")
		return
	}
	r.ok(CheckLeaks, "plain gh goes through keyfob exec in new shells (%s)", strings.Join(in, ", "))
}

// perms checks that keyfob's own files are the user's alone.
func (r *report) perms(p leakPlaces) {
	private := func(path string, dir bool) {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			r.problem(CheckLeaks, err.Error(), "")
			return
		}
		mode := fi.Mode().Perm()
		want := os.FileMode(0o600)
		if dir {
			want = 0o700
		}
		if mode&0o077 != 0 {
			r.problem(CheckLeaks, fmt.Sprintf("%s is mode %04o: others can read it", path, mode), fmt.Sprintf("chmod %o %s", want, path))
		}
	}
	private(p.stateDir, true)
	private(p.keyringDir, true)
	if ents, err := os.ReadDir(p.keyringDir); err == nil {
		for _, e := range ents {
			private(filepath.Join(p.keyringDir, e.Name()), false)
		}
	}
	private(p.auditPath, false)
	if fi, err := os.Stat(p.configPath); err == nil && fi.Mode().Perm()&0o022 != 0 {
		r.problem(CheckLeaks, fmt.Sprintf("%s is mode %04o: others can change your routes", p.configPath, fi.Mode().Perm()), "chmod 600 "+p.configPath)
	}
	if fi, err := os.Lstat(p.socket); err == nil && fi.Mode()&os.ModeSocket != 0 && fi.Mode().Perm()&0o077 != 0 {
		r.problem(CheckLeaks, fmt.Sprintf("the agent's socket %s is mode %04o (grants' sockets may be; the agent's may not)", p.socket, fi.Mode().Perm()),
			"chmod 600 "+p.socket+", and check what made it so")
	}
}
