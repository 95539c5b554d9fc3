package config

import (
	"strings"
	"testing"
)

func TestParseAudit(t *testing.T) {
	for _, tc := range []struct {
		src     string
		want    Audit
		wantErr string
	}{
		{"", Audit{}, ""},
		{"[audit]\nmax_size = \"10MB\"\nkeep = 7\n", Audit{MaxSize: 10 << 20, Keep: 7}, ""},
		{"[audit]\nmax_size = \"512KiB\"\n", Audit{MaxSize: 512 << 10, Keep: DefaultAuditKeep}, ""},
		{"[audit]\nmax_size = \"1 GB\"\n", Audit{MaxSize: 1 << 30, Keep: DefaultAuditKeep}, ""},
		{"[audit]\nmax_size = \"8192\"\n", Audit{MaxSize: 8192, Keep: DefaultAuditKeep}, ""},
		{"[audit]\nmax_size = \"ten\"\n", Audit{}, `c.toml:2: audit: max_size: "ten": want a size such as 10MB`},
		{"[audit]\nmax_size = \"1KB\"\n", Audit{}, `c.toml:2: audit: max_size "1KB" is under 4KB`},
		{"[audit]\nmax_size = \"-5MB\"\n", Audit{}, `c.toml:2: audit: max_size`},
		{"[audit]\nmax_size = \"10MB\"\nkeep = 0\n", Audit{}, "c.toml:3: audit: keep = 0: want 1 to 1000 files"},
		{"[audit]\nkeep = 3\n", Audit{}, "c.toml:2: audit: keep without max_size"},
		{"[audit]\nmax_bytes = 3\n", Audit{}, `c.toml:2: unknown key "audit.max_bytes"`},
	} {
		c, err := Parse("c.toml", []byte(tc.src))
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) = %v, want an error with %q", tc.src, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("Parse(%q) = %v", tc.src, err)
		case c.Audit != tc.want:
			t.Errorf("Parse(%q).Audit = %+v, want %+v", tc.src, c.Audit, tc.want)
		}
	}
}
