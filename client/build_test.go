package client

import "testing"

func TestBuildVersion(t *testing.T) {
	if v, rev := BuildVersion("v1.2.3", "abc123"); v != "v1.2.3" || rev != "abc123" {
		t.Errorf(`BuildVersion("v1.2.3", "abc123") = %q, %q; want the stamped ones`, v, rev)
	}
	// A test binary records no module version: never an empty one.
	if v, rev := BuildVersion("", ""); v == "" || rev == "" {
		t.Errorf(`BuildVersion("", "") = %q, %q; want "dev" or the recorded ones, never empty`, v, rev)
	}
}
