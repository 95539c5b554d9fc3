package policy

// View is the tokens of one vault snapshot, indexed by host and by name,
// so that a git get reads the few tokens that can matter to it instead of
// every token held. It is immutable once made.
type View struct {
	all []Token
	// byHost holds, under foldKey of a host, the tokens whose allowlist
	// has it (HostAllowed's case folding), in the order of all.
	byHost map[string][]Token
	byName map[string]bool
}

// NewView indexes toks, which it keeps; the caller does not change them.
func NewView(toks []Token) *View {
	v := &View{all: toks, byHost: make(map[string][]Token), byName: make(map[string]bool, len(toks))}
	for _, t := range toks {
		v.byName[t.Name] = true
		keys := make(map[string]bool, len(t.Hosts))
		for _, h := range t.Hosts {
			if k := foldKey(h); !keys[k] {
				keys[k] = true
				v.byHost[k] = append(v.byHost[k], t)
			}
		}
	}
	return v
}

// All returns every token, as given to NewView; a nil View has none.
func (v *View) All() []Token {
	if v == nil {
		return nil
	}
	return v.all
}

// Decide is Decide(r, v.All(), routes), reading only the tokens whose
// allowlist has r's host and those the routes matching r name: no other
// token can change a decision (FuzzDecide checks that both agree).
func (v *View) Decide(r Request, routes *Table) Decision {
	return decide(r, v.relevant(r, routes), routes, false)
}

// relevant returns the tokens Decide reads for r, in the order of all.
func (v *View) relevant(r Request, routes *Table) []Token {
	if v == nil {
		return nil
	}
	var k [64]byte
	host := v.byHost[string(appendFoldKey(k[:0], r.Host))]
	var named []string
	for i := range routes.matching(ParseTarget(r.Host, r.Path)) {
		if name := routes.routes[i].Token; v.byName[name] {
			named = append(named, name)
		}
	}
	if len(named) == 0 {
		return host
	}
	// A route names a token: keep the order of all, each token once.
	want := make(map[string]bool, len(host)+len(named))
	for _, t := range host {
		want[t.Name] = true
	}
	for _, name := range named {
		want[name] = true
	}
	out := make([]Token, 0, len(want))
	for _, t := range v.all {
		if want[t.Name] {
			out = append(out, t)
		}
	}
	return out
}
