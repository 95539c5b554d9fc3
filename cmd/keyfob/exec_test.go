package main

import (
	"slices"
	"testing"

	"github.com/keyfob/keyfob/client"
)

func TestHTTPSRemote(t *testing.T) {
	tests := map[string]string{
		"git@github.com:acme/app.git":           "https://github.com/acme/app.git",
		"ssh://git@github.com/acme/app.git":     "https://github.com/acme/app.git",
		"ssh://git@ghe.corp:2222/acme/app.git":  "https://ghe.corp/acme/app.git",
		"https://alice@github.com/acme/app.git": "https://alice@github.com/acme/app.git",
		"http://127.0.0.1:8080/acme/app.git":    "http://127.0.0.1:8080/acme/app.git",
		"github.com/acme/app":                   "github.com/acme/app",
	}
	for in, want := range tests {
		if got := httpsRemote(in); got != want {
			t.Errorf("httpsRemote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenEnv(t *testing.T) {
	env := []string{"PATH=/bin", "GH_TOKEN=old", "GH_ENTERPRISE_TOKEN=old"}
	tok := client.NewSecret("ghp_canaryEXEC")
	tests := []struct {
		hosts []string
		want  []string
	}{
		{[]string{"github.com"}, []string{"PATH=/bin", "GH_TOKEN=ghp_canaryEXEC", "GITHUB_TOKEN=ghp_canaryEXEC"}},
		{[]string{"ghe.corp:8443"}, []string{"PATH=/bin", "GH_TOKEN=ghp_canaryEXEC", "GITHUB_TOKEN=ghp_canaryEXEC", "GH_ENTERPRISE_TOKEN=ghp_canaryEXEC"}},
	}
	for _, tt := range tests {
		if got := tokenEnv(env, tok, enterprise(tt.hosts)); !slices.Equal(got, tt.want) {
			t.Errorf("tokenEnv(%v) = %q, want %q", tt.hosts, got, tt.want)
		}
	}
}
