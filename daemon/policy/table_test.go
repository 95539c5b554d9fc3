package policy

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestCompileOrdersBySpecificity(t *testing.T) {
	routes := []Route{
		{Match: "github.com", Token: "personal", Source: "c:1"},
		{Match: "github.com/acme", Token: "org", Source: "c:2"},
		{Match: "github.com/acme/*", Token: "repos", Source: "c:3"},
		{Match: "github.com/*/app", Token: "apps", Source: "c:4"}, // ties with c:3, given later
		{Match: "github.com/acme/app", Token: "app", Source: "c:5"},
		{Match: "github.com/a*/x", Token: "bad", Source: "c:6"}, // does not parse: left out
	}
	tab := Compile(routes)
	if tab.Len() != 5 {
		t.Fatalf("Compile(%d routes).Len() = %d, want 5 (the bad match left out)", len(routes), tab.Len())
	}
	if got := tab.Routes(); !reflect.DeepEqual(got, routes[:5]) {
		t.Errorf("Routes() = %v, want the routes that parse, in file order", got)
	}
	for _, tc := range []struct{ path, want string }{
		{"acme/app.git", "c:5"},
		{"ACME/App", "c:5"},
		{"acme/other.git", "c:3"},
		{"globex/app", "c:4"},
		{"acme", "c:2"},
		{"globex/x", "c:1"},
		{"", "c:1"},
	} {
		rt, i := tab.Lookup("GitHub.com", tc.path)
		if rt.Source != tc.want || i < 0 || routes[i].Source != tc.want {
			t.Errorf("Lookup(%q) = %v, %d, want %s", tc.path, rt, i, tc.want)
		}
	}
	if rt, i := tab.Lookup("ghe.corp", "acme/app"); i != -1 || rt.Match != "" {
		t.Errorf("Lookup(other host) = %v, %d, want none", rt, i)
	}
	if rt, i := tab.Lookup("github.com", "acme/../app"); i != -1 || rt.Match != "" {
		t.Errorf("Lookup(refused path) = %v, %d, want none", rt, i)
	}
}

func TestTableHosts(t *testing.T) {
	tab := Compile([]Route{
		{Match: "GitHub.com/acme", Token: "a"},
		{Match: "ghe.corp:8443", Token: "c"},
		{Match: "github.com", Token: "p"},
		{Match: "github.com/*/app", Token: "x"},
	})
	if got, want := tab.Hosts(), []string{"github.com", "ghe.corp:8443"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Hosts() = %v, want %v", got, want)
	}
	var got []string
	for _, r := range tab.PathRoutes("GITHUB.com") {
		got = append(got, r.Match)
	}
	if want := []string{"GitHub.com/acme", "github.com/*/app"}; !reflect.DeepEqual(got, want) {
		t.Errorf("PathRoutes(GITHUB.com) = %v, want %v", got, want)
	}
	if tab.HasPathRoutes("ghe.corp:8443") || !tab.HasPathRoutes("github.com") {
		t.Errorf("HasPathRoutes wrong: ghe.corp:8443 %v, github.com %v", tab.HasPathRoutes("ghe.corp:8443"), tab.HasPathRoutes("github.com"))
	}
}

// TestNilTable: no config means no routes, and a nil table says so.
func TestNilTable(t *testing.T) {
	var tab *Table
	if tab.Len() != 0 || tab.Routes() != nil || tab.Hosts() != nil || tab.HasPathRoutes("github.com") || tab.PathRoutes("github.com") != nil {
		t.Errorf("nil table has routes")
	}
	if _, i := tab.Lookup("github.com", "acme/app"); i != -1 {
		t.Errorf("nil table Lookup = %d, want -1", i)
	}
	d := Decide(Request{Protocol: "http", Host: "127.0.0.1:8080", Path: "x/y", Now: testNow}, toks, nil)
	if d.Outcome != Granted || d.Token != "local" {
		t.Errorf("Decide(no routes) = %v %q (%s), want local", d.Outcome, d.Token, d.Reason)
	}
	if CheckTokens(nil, toks) != nil {
		t.Errorf("CheckTokens(nil) reports problems")
	}
}

// TestFoldKey: the host index finds exactly the routes EqualFold would.
func TestFoldKey(t *testing.T) {
	words := []string{"github.com", "GitHub.com", "GITHUB.COM", "gitsub.com", "gitſub.com", "key.com", "\u212aey.com",
		"k", "K", "\u212a", "s", "S", "ſ", "ß", "ẞ", "\xff", "\xfe", "\ufffd", "", "ghe.corp:8443", "ghe.corp"}
	for _, a := range words {
		for _, b := range words {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldKey(%q) == foldKey(%q) is %v, but EqualFold says %v", a, b, got, want)
			}
		}
	}
	// ASCII's shortcut gives what the Unicode tables give, byte by byte
	// and before a rune above ASCII.
	for c := range 128 {
		for _, s := range []string{string(rune(c)), string(rune(c)) + "ſ"} {
			if got, want := foldKey(s), string(appendFoldRunes(nil, s)); got != want {
				t.Errorf("foldKey(%q) = %q, the Unicode tables say %q", s, got, want)
			}
		}
	}
}

func TestPermissions(t *testing.T) {
	p := NewPermissions(map[string]string{"pull_requests": "write", "contents": "read"})
	if got := p.String(); got != "contents:read,pull_requests:write" {
		t.Errorf("String() = %q, want contents:read,pull_requests:write", got)
	}
	if got, want := p.Map(), map[string]string{"pull_requests": "write", "contents": "read"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Map() = %v, want %v", got, want)
	}
	if NewPermissions(nil) != nil || Permissions(nil).Map() != nil || Permissions(nil).String() != "" {
		t.Errorf("no permissions should be nil and print empty")
	}
}

// TestCompileCopies: a Table does not change when the routes it was
// compiled from do.
func TestCompileCopies(t *testing.T) {
	routes := []Route{{Match: "github.com/acme", Token: "ci", Permissions: NewPermissions(map[string]string{"contents": "read"})}}
	tab := Compile(routes)
	routes[0].Token = "other"
	routes[0].Permissions[0].Level = "admin"
	got := tab.Routes()[0]
	if got.Token != "ci" || got.Permissions.String() != "contents:read" {
		t.Errorf("compiled route = %+v after changing its source, want it unchanged", got)
	}
}

// BenchmarkDecide1000Routes measures one decision against a full config:
// the table looks only at the request host's routes, and parses nothing.
func BenchmarkDecide1000Routes(b *testing.B) {
	var routes []Route
	for i := range 1000 {
		routes = append(routes, Route{Match: fmt.Sprintf("h%d.example.com/acme/app%d", i%50, i), Token: "personal"})
	}
	routes = append(routes, Route{Match: "github.com/acme/*", Token: "github:fine-grained-acme"})
	tab := Compile(routes)
	r := Request{Protocol: "https", Host: "github.com", Path: "acme/app.git", Now: testNow}
	for b.Loop() {
		if d := Decide(r, toks, tab); d.Token != "github:fine-grained-acme" {
			b.Fatal(d.Reason)
		}
	}
}
