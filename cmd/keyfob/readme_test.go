package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// quickStart returns the ```sh block under "## Quick start" in the README.
func quickStart(t *testing.T, readme string) string {
	t.Helper()
	_, sec, ok := strings.Cut(readme, "\n## Quick start\n")
	if !ok {
		t.Fatal("README.md has no ## Quick start")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	_, block, ok := strings.Cut(sec, "```sh\n")
	if !ok {
		t.Fatal("## Quick start has no ```sh block")
	}
	block, _, _ = strings.Cut(block, "```")
	return block
}

// checkCommands checks each keyfob and make command in a shell block:
// the keyfob command (and its subcommand) exists, its help says so, and
// each flag it names is one the help lists; the make target is in the
// Makefile. It returns what is wrong.
func checkCommands(t *testing.T, block, makefile string) []string {
	var bad []string
	for _, line := range strings.Split(block, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		for _, seg := range regexp.MustCompile(`&&|\|\||;|\|`).Split(line, -1) {
			w := strings.Fields(strings.TrimSuffix(strings.TrimSpace(seg), "&"))
			if len(w) < 2 {
				continue
			}
			switch w[0] {
			case "make":
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(w[1]) + `:`).MatchString(makefile) {
					bad = append(bad, "make "+w[1]+": no such target in the Makefile")
				}
				continue
			case "keyfob":
			default:
				continue
			}
			args := []string{"help", w[1]}
			if len(w) > 2 && !strings.HasPrefix(w[2], "-") && (w[1] == "setup" || w[1] == "app") {
				args = append(args, w[2])
			}
			if _, ok := commands[w[1]]; !ok {
				bad = append(bad, strings.Join(w, " ")+": no command "+w[1])
				continue
			}
			code, stdout, stderr, _ := runHelp(t, args...)
			if code != 0 {
				bad = append(bad, strings.Join(w, " ")+": keyfob "+strings.Join(args, " ")+": "+stderr)
				continue
			}
			for _, a := range w[2:] {
				if a == "--" {
					break // the rest is the command keyfob exec runs
				}
				if name, ok := strings.CutPrefix(a, "--"); ok {
					name, _, _ = strings.Cut(name, "=")
					if !strings.Contains(stdout, "\n  --"+name+"\n") && !strings.Contains(stdout, "\n  --"+name+" ") {
						bad = append(bad, strings.Join(w, " ")+": keyfob "+strings.Join(args, " ")+" lists no --"+name)
					}
				}
			}
		}
	}
	return bad
}

// TestReadmeQuickStart keeps the README's quick start honest: every keyfob
// command and flag in it exists, and every make target.
func TestReadmeQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	block := quickStart(t, string(readme))
	for _, want := range []string{"keyfob serve &", "keyfob unlock", "keyfob login ", "keyfob setup git", "git clone ", "keyfob status", "keyfob exec -- "} {
		if !strings.Contains(block, want) {
			t.Errorf("quick start lacks %q", want)
		}
	}
	for _, b := range checkCommands(t, block, string(makefile)) {
		t.Error(b)
	}
}

// checkCommands finds what a wrong quick start gets wrong.
func TestCheckCommandsFindsMistakes(t *testing.T) {
	block := "make bild\nkeyfob add x --hots github.com   # typo\nkeyfob frob\nkeyfob setup gti\nkeyfob exec --url u -- gh --jq x\nkeyfob serve &\n"
	got := checkCommands(t, block, "build: ## x\n")
	want := []string{"make bild", "--hots", "no command frob", "keyfob help setup gti"}
	if len(got) != len(want) {
		t.Fatalf("checkCommands = %q, want %d mistakes (%q)", got, len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("checkCommands[%d] = %q, want it to name %q", i, got[i], w)
		}
	}
}
