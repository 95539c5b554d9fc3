package plaintext

import (
	"fmt"
	"strconv"

	"github.com/keyfob/keyfob/client"
)

// Call sends one request to the agent; client.Call, bound to a socket,
// fits.
type Call func(*client.Request) (*client.Response, error)

// Result is what became of one Found.
type Result struct {
	Found Found
	// Name is the token's name in keyfob.
	Name string
	// Already is set when keyfob held this very secret under Name.
	Already bool
	// Err is why it was not stored; nil when it was (or Already).
	Err error
	// Info is the token as the agent describes it after add.
	Info     client.TokenInfo
	Warnings []string
}

// Import adds each of fs to the agent, validated as keyfob add validates
// (a GitHub host's token is checked with GET /user). A name is
// Found.Name, or name when given (one token only). When a token of that
// name exists: holding the same secret, it counts as imported; holding
// another, the name gets "-2", "-3"… until one is free.
func Import(call Call, fs []Found, name string) ([]Result, error) {
	if name != "" && len(fs) > 1 {
		return nil, fmt.Errorf("--name names one token, and the source holds %d", len(fs))
	}
	l, err := call(&client.Request{Op: client.OpList})
	if err != nil {
		return nil, err
	}
	held := map[string]string{} // name -> fingerprint
	for _, t := range l.Tokens {
		held[t.Name] = t.Fingerprint
	}
	for _, a := range l.Apps {
		held[a.Name] = "app"
	}
	out := make([]Result, 0, len(fs))
	for _, f := range fs {
		base := name
		if base == "" {
			base = f.Name()
		}
		r := Result{Found: f, Name: base}
		fp := f.Secret.Fingerprint()
		for n := 2; ; n++ {
			have, ok := held[r.Name]
			if !ok {
				break
			}
			if have == fp {
				r.Already = true
				break
			}
			r.Name = base + "-" + strconv.Itoa(n)
		}
		if f.RepoPath != "" && !r.Already {
			r.Err = fmt.Errorf("it is for %s/%s only, and a keyfob token is for the whole host; add it with keyfob add and a route for that repository", f.Host, f.RepoPath)
		} else if !r.Already {
			meta := &client.TokenMeta{Hosts: []string{f.Host}, Username: f.Username}
			resp, err := call(&client.Request{Op: client.OpAdd, Name: r.Name, Meta: meta, Secret: f.Secret.Clone()})
			switch {
			case err != nil:
				r.Err = err
			default:
				held[r.Name] = fp
				if len(resp.Tokens) == 1 {
					r.Info = resp.Tokens[0]
				}
				r.Warnings = resp.Warnings
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Verify reads the tokens back from the agent, which holds what the
// keychain holds, and checks that each result is there with its secret's
// fingerprint. Only then may its source be scrubbed.
func Verify(call Call, rs []Result) error {
	l, err := call(&client.Request{Op: client.OpList})
	if err != nil {
		return err
	}
	held := map[string]string{}
	for _, t := range l.Tokens {
		held[t.Name] = t.Fingerprint
	}
	for _, r := range rs {
		if r.Err != nil {
			return fmt.Errorf("%s was not stored: %w", r.Name, r.Err)
		}
		if held[r.Name] != r.Found.Secret.Fingerprint() {
			return fmt.Errorf("%s is not in keyfob with the secret from %s", r.Name, r.Found.Location())
		}
	}
	return nil
}
