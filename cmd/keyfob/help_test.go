package main

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

// runHelp runs keyfob with args and returns its exit status and output,
// and the FlagSets the command made.
func runHelp(t *testing.T, args ...string) (int, string, string, []*flag.FlagSet) {
	t.Helper()
	var sets []*flag.FlagSet
	flagSeen = func(fs *flag.FlagSet) { sets = append(sets, fs) }
	defer func() { flagSeen = nil }()
	var stdout, stderr bytes.Buffer
	code := runWith(&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, args)
	return code, stdout.String(), stderr.String(), sets
}

// helpCases are the command lines that ask for help: for every command in
// the table and every subcommand with flags, keyfob help CMD, CMD --help
// and CMD -h.
func helpCases() map[string][][]string {
	cases := map[string][][]string{}
	add := func(name string) {
		w := strings.Fields(name)
		cases[name] = [][]string{
			append([]string{"help"}, w...),
			append(w, "--help"),
			append(w, "-h"),
		}
	}
	for name := range commands {
		add(name)
	}
	for name := range subUsage {
		add(name)
	}
	add("import gh")
	return cases
}

// TestHelpListsEveryFlag checks that help goes to stdout, exits 0, and
// shows the synopsis and every flag (with its usage and default) of every
// FlagSet the command makes, so a new command or flag cannot be left out.
func TestHelpListsEveryFlag(t *testing.T) {
	for name, lines := range helpCases() {
		for _, args := range lines {
			code, stdout, stderr, sets := runHelp(t, args...)
			if code != 0 || stderr != "" {
				t.Errorf("keyfob %s: exit %d, stderr %q; want 0 and nothing", strings.Join(args, " "), code, stderr)
				continue
			}
			syn := synopsis(name)
			if _, ok := commands[name]; !ok && subUsage[name] == "" {
				syn = synopsis(strings.Fields(name)[0])
			}
			if !strings.Contains(stdout, "usage: keyfob "+syn+"\n") {
				t.Errorf("keyfob %s: stdout lacks the synopsis %q:\n%s", strings.Join(args, " "), syn, stdout)
			}
			if len(sets) == 0 {
				t.Errorf("keyfob %s: made no FlagSet", strings.Join(args, " "))
			}
			for _, fs := range sets {
				fs.VisitAll(func(f *flag.Flag) {
					want := "  --" + f.Name
					if _, u := flag.UnquoteUsage(f); !strings.Contains(stdout, want) || !strings.Contains(stdout, u) {
						t.Errorf("keyfob %s: stdout lacks %s and its usage %q:\n%s", strings.Join(args, " "), want, u, stdout)
					}
					if !zeroValue(f.DefValue) && !strings.Contains(stdout, "(default "+f.DefValue+")") {
						t.Errorf("keyfob %s: stdout lacks --%s's default %q", strings.Join(args, " "), f.Name, f.DefValue)
					}
				})
			}
		}
	}
}

func zeroValue(v string) bool { return v == "" || v == "0" || v == "false" || v == "0s" || v == "[]" }

// TestHelpNamesTheFlagsAsked checks a few flags by name, as the README
// and users know them.
func TestHelpNamesTheFlagsAsked(t *testing.T) {
	for _, c := range []struct{ cmd, flag string }{
		{"add", "--no-verify"}, {"rotate", "--no-verify"}, {"audit", "--follow"},
		{"exec", "--fallback"}, {"exec", "--grant"}, {"setup", "--exe"}, {"setup", "--shell"},
		{"app", "--key-file"}, {"serve", "--auto-lock"}, {"import", "--remove"},
	} {
		_, stdout, _, _ := runHelp(t, "help", c.cmd)
		if !strings.Contains(stdout, "  "+c.flag) {
			t.Errorf("keyfob help %s: no %s in\n%s", c.cmd, c.flag, stdout)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"help"}, 0, "usage: keyfob COMMAND", ""},
		{[]string{"--help"}, 0, "usage: keyfob COMMAND", ""},
		{[]string{"-h"}, 0, "usage: keyfob COMMAND", ""},
		{nil, 2, "", "usage: keyfob COMMAND"},
		{[]string{"nope"}, 2, "", `keyfob: error: unknown command "nope"`},
		{[]string{"help", "nope"}, 2, "", `keyfob: error: unknown command "nope"`},
		{[]string{"add", "--bogus"}, 2, "", "keyfob: error: flag provided but not defined: -bogus\nusage: keyfob add "},
	} {
		code, stdout, stderr, _ := runHelp(t, c.args...)
		if code != c.code || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) ||
			(c.stdout == "" && stdout != "") || (c.stderr == "" && stderr != "") {
			t.Errorf("keyfob %q = %d, stdout %q, stderr %q; want %d, %q, %q", c.args, code, stdout, stderr, c.code, c.stdout, c.stderr)
		}
	}
}
