// Command keyfob is the agent (keyfob serve) and its management CLI.
//
// Output rules: results go to stdout, and so does help asked for (keyfob
// help [CMD], -h, --help: exit 0); everything else for the user goes to
// stderr as "keyfob: error: …" and, when there is a fix, "keyfob: hint: …".
// Errors exit 1, usage errors 2 (with the usage on stderr). No secret is ever printed, except by keyfob token,
// whose whole job is to print one.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/keyfob/keyfob/client"
	"github.com/keyfob/keyfob/client/pump"
)

type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	run   func(e *env, args []string) error
	usage string
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"serve":   {cmdServe, "serve [--backend B] [--log-level L] [--auto-lock D]   run the agent in the foreground"},
		"unlock":  {cmdUnlock, "unlock                                unlock the keychain"},
		"lock":    {cmdLock, "lock                                  drop every secret from memory"},
		"add":     {cmdAdd, "add NAME --host H [--host H]... [--username U] [--expires T] [--rotate-every D]"},
		"rotate":  {cmdRotate, "rotate NAME [--expires T] [--no-verify]   replace a token's secret"},
		"remove":  {cmdRemove, "remove NAME                           delete a token, or an app (revoking its cached tokens)"},
		"login":   {cmdLogin, "login --client-id ID [--host H] [--name NAME] [--scope S] [--web] | --app NAME   get a user token through GitHub's device flow; the agent refreshes it"},
		"app":     {cmdApp, "app add NAME --app-id ID (--installation-id N | --owner ORG) --key-file PEM [--host H]... [--no-verify]   store a GitHub App's key; tokens are minted per repository"},
		"list":    {cmdList, "list                                  masked inventory"},
		"status":  {cmdStatus, "status [--json]                       agent and token states"},
		"which":   {cmdWhich, "which URL                             which token a URL gets, and why"},
		"token":   {cmdToken, "token URL|NAME                        print one token"},
		"audit":   {cmdAudit, "audit [--since T] [--until T] [--op OP] [--decision D] [--token NAME] [--grant L] [--host H] [--json] [--follow]   read the audit log"},
		"version": {cmdVersion, "version                               print the version"},
		"grant":   {cmdGrant, "grant --url URL [--url URL]... [--ttl 1h] [--max-uses N] [--label L] [--uid UID]... [--socket [PATH] | --file [PATH]]   give a sandbox scoped, expiring access"},
		"grants":  {cmdGrants, "grants                                list the grants alive"},
		"revoke":  {cmdRevoke, "revoke LABEL                          end a grant early"},
		"import":  {cmdImport, importUsage + "   move plaintext tokens into the keychain"},
		"exec":    {cmdExec, "exec [--url URL|--token NAME] -- CMD...  run CMD with GH_TOKEN and GITHUB_TOKEN set; exec --grant [--url URL]... [--ttl D] [--max-uses N] [--label L] [--file] -- CMD...  run CMD with a grant of its own"},
		"setup":   {cmdSetup, "setup git [--host H]... [--dry-run] | systemd [--exe P] [--dry-run] | gh [--shell S] [--install]   set up git's helper, the systemd user units, or gh"},
		"doctor":  {cmdDoctor, "doctor                                check the agent, config and git settings"},
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// hinted is an error with a fix.
type hinted struct {
	err  error
	hint string
}

func (h hinted) Error() string { return h.err.Error() }
func (h hinted) Unwrap() error { return h.err }

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: keyfob COMMAND [ARGS]")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  keyfob %s\n", commands[n].usage)
	}
	fmt.Fprintln(w, "keyfob help COMMAND (or keyfob COMMAND --help) lists its flags")
}

func run() int {
	return runWith(&env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
}

func runWith(e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return 2
	}
	if args[0] == "help" || isHelp(args[0]) {
		if len(args) == 1 || isHelp(args[0]) {
			usage(e.stdout)
			return 0
		}
		// keyfob help CMD [SUB] is keyfob CMD [SUB] --help.
		args = append(args[1:], "--help")
	}
	if args[0] == pump.DelegateCommand {
		// Not a command for people: git-credential-keyfob hands over a
		// request that found no agent, to start one (client.GitHelper).
		return client.GitHelper(args[1:], e.stdin, e.stdout, e.stderr)
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "keyfob: error: unknown command %q\n", args[0])
		usage(e.stderr)
		return 2
	}
	err := c.run(e, args[1:])
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "keyfob: error: %s\nusage: keyfob %s\n", ue.msg, c.usage)
		return 2
	}
	var ex exitError
	if errors.As(err, &ex) {
		return int(ex)
	}
	fmt.Fprintf(e.stderr, "keyfob: error: %v\n", err)
	var h hinted
	var ae *client.Error
	switch {
	case errors.As(err, &h) && h.hint != "":
		fmt.Fprintf(e.stderr, "keyfob: hint: %s\n", h.hint)
	case errors.As(err, &ae) && ae.Hint != "":
		fmt.Fprintf(e.stderr, "keyfob: hint: %s\n", ae.Hint)
	}
	return 1
}

// exitError passes a child's exit status through (keyfob exec).
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exited passes on how a child ended: its exit status, or err.
func exited(code int, err error) error {
	if err == nil && code != 0 {
		return exitError(code)
	}
	return err
}

func main() { os.Exit(run()) }
