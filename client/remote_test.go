package client

import "testing"

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
		if got := HTTPSRemote(in); got != want {
			t.Errorf("HTTPSRemote(%q) = %q, want %q", in, got, want)
		}
	}
}
