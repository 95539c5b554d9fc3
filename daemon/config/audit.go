package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/keyfob/keyfob/daemon/policy"
)

// Audit is the [audit] section: the audit log's own rotation. A zero
// MaxSize never rotates (the default; logrotate may do it instead).
type Audit struct {
	// MaxSize is the size in bytes at which the log is rotated.
	MaxSize int64
	// Keep is how many rotated files are kept.
	Keep int
}

// DefaultAuditKeep is how many rotated files are kept when max_size is set
// and keep is not.
const DefaultAuditKeep = 5

// Bounds of [audit]: a cap below minAuditSize would rotate every few
// lines, and more than maxAuditKeep files are more than a reader looks for.
const (
	minAuditSize = 4 << 10
	maxAuditKeep = 1000
)

type auditEntry struct {
	MaxSize string `toml:"max_size"`
	Keep    *int   `toml:"keep"`
}

// parseAudit checks the [audit] section.
func parseAudit(path string, lines *lineIndex, e auditEntry) (Audit, []policy.Problem) {
	var a Audit
	var probs []policy.Problem
	src := func(k string) string { return lines.source(path, toml.Key{"audit", k}) }
	if e.MaxSize != "" {
		n, err := ParseSize(e.MaxSize)
		switch {
		case err != nil:
			probs = append(probs, policy.Problem{Source: src("max_size"), Msg: "audit: max_size: " + err.Error()})
		case n < minAuditSize:
			probs = append(probs, policy.Problem{Source: src("max_size"), Msg: fmt.Sprintf("audit: max_size %q is under 4KB", e.MaxSize)})
		default:
			a.MaxSize, a.Keep = n, DefaultAuditKeep
		}
	}
	if e.Keep != nil {
		switch k := *e.Keep; {
		case k < 1 || k > maxAuditKeep:
			probs = append(probs, policy.Problem{Source: src("keep"), Msg: fmt.Sprintf("audit: keep = %d: want 1 to %d files", k, maxAuditKeep)})
		case e.MaxSize == "":
			probs = append(probs, policy.Problem{Source: src("keep"), Msg: "audit: keep without max_size: set max_size to rotate"})
		default:
			a.Keep = k
		}
	}
	return a, probs
}

// ParseSize reads a size such as 10MB, 512KB, 1GB or 4096 (bytes). KB, MB
// and GB are powers of 1024, as are KiB, MiB and GiB.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("%q: want a size such as 10MB", s)
	}
	return n * mult, nil
}
