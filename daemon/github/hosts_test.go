package github

import (
	"errors"
	"slices"
	"testing"
)

func TestHosts(t *testing.T) {
	h := NewHosts("http://127.0.0.1:9/", "", []Host{
		{Name: "GHE.example.com"},
		{Name: "127.0.0.1:8443", API: "http://127.0.0.1:9000/api/v3/", Web: "http://127.0.0.1:9000"},
	})
	for _, tc := range []struct {
		host, api, web string
		ok, ent        bool
	}{
		{"github.com", "http://127.0.0.1:9", DefaultWeb, true, false},
		{"GitHub.com", "http://127.0.0.1:9", DefaultWeb, true, false},
		{"ghe.example.com", "https://ghe.example.com/api/v3", "https://ghe.example.com", true, true},
		{"127.0.0.1:8443", "http://127.0.0.1:9000/api/v3", "http://127.0.0.1:9000", true, true},
		{"octo.ghe.com", "https://api.octo.ghe.com", "https://octo.ghe.com", true, true},
		{"a.b.ghe.com", "", "", false, false},
		{"api.ghe.com", "", "", false, false},
		{"ghe.com", "", "", false, false},
		{"octo.ghe.com:443", "", "", false, false},
		{"gitlab.com", "", "", false, false},
		{"ghe.example.com.evil", "", "", false, false},
	} {
		api, ok := h.API(tc.host)
		web, _ := h.Web(tc.host)
		if api != tc.api || web != tc.web || ok != tc.ok || h.IsEnterprise(tc.host) != tc.ent {
			t.Errorf("Hosts(%q) = %q, %q, %v, enterprise %v; want %q, %q, %v, %v", tc.host, api, web, ok, h.IsEnterprise(tc.host), tc.api, tc.web, tc.ok, tc.ent)
		}
	}
	var zero *Hosts
	if api, ok := zero.API("github.com"); !ok || api != DefaultAPI {
		t.Errorf("nil Hosts API(github.com) = %q, %v", api, ok)
	}
	if got := h.Configured(); len(got) != 2 || got[0].Name != "ghe.example.com" {
		t.Errorf("Configured() = %+v", got)
	}
}

func TestParseSSO(t *testing.T) {
	const u = "https://github.com/orgs/acme/sso?authorization_request=A5VCNOEQ2ONF7ZXC3LWKZLLJPEZGRIXVXFRT7WQZRYCG4VBBMEGZMW"
	for _, tc := range []struct {
		h, url string
		ids    []string
	}{
		{"required; url=" + u, u, nil},
		{"Required;url=" + u, u, nil},
		{"partial-results; organizations=21955855,20582480", "", []string{"21955855", "20582480"}},
		{"required; url=javascript:alert(1)", "", nil},
		{"required", "", nil},
		{"", "", nil},
	} {
		url, ids := ParseSSO(tc.h)
		if url != tc.url || !slices.Equal(ids, tc.ids) {
			t.Errorf("ParseSSO(%q) = %q, %q; want %q, %q", tc.h, url, ids, tc.url, tc.ids)
		}
	}
	if got := SSOOrg(u); got != "acme" {
		t.Errorf("SSOOrg(%q) = %q, want acme", u, got)
	}
	err := error(&APIError{Status: 403, SSO: u})
	if url, org, ok := SSORequired(errors.Join(errors.New("x"), err)); !ok || url != u || org != "acme" {
		t.Errorf("SSORequired = %q, %q, %v", url, org, ok)
	}
}
