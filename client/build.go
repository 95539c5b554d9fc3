package client

import (
	"cmp"
	"runtime/debug"
)

// BuildVersion returns the module version and the VCS revision keyfob was
// built from: the stamped ones (make build sets them with -ldflags -X),
// else what the toolchain recorded, else "dev" and "unknown".
func BuildVersion(stamped, stampedRev string) (version, revision string) {
	version, revision = stamped, stampedRev
	if bi, ok := debug.ReadBuildInfo(); ok {
		if version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && revision == "" {
				revision = s.Value
			}
		}
	}
	return cmp.Or(version, "dev"), cmp.Or(revision, "unknown")
}
