package grant

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// record is what the next agent needs to remove a grant's socket or file if
// this one stops without doing so. It holds no secret.
type record struct {
	Path    string    `json:"path"`
	OwnDir  string    `json:"own_dir,omitempty"`
	Dev     uint64    `json:"dev"`
	Ino     uint64    `json:"ino"`
	Expires time.Time `json:"expires"`
}

func (m *Manager) recordPath(label string) string { return filepath.Join(m.cfg.Dir, label+".json") }

func fileID(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}

func (m *Manager) saveRecord(g *grant) {
	if m.cfg.Dir == "" {
		return
	}
	g.mu.Lock()
	rec := record{Path: g.path, OwnDir: g.ownDir, Expires: g.expires}
	if g.file != nil {
		rec.Dev, rec.Ino = fileID(g.file)
	}
	g.mu.Unlock()
	b, _ := json.Marshal(rec)
	err := os.MkdirAll(m.cfg.Dir, 0o700)
	if err == nil {
		err = os.WriteFile(m.recordPath(g.label), b, 0o600)
	}
	if err != nil {
		m.log.Warn("grant record not written; a crash would leave the grant's file behind", zap.String("grant", g.label), zap.Error(err))
	}
}

func (m *Manager) removeRecord(label string) {
	if m.cfg.Dir != "" {
		os.Remove(m.recordPath(label))
	}
}

// removeLeftovers removes the sockets and files of grants that an agent
// which did not stop cleanly left behind: a grant never outlives its agent.
func (m *Manager) removeLeftovers() {
	if m.cfg.Dir == "" {
		return
	}
	names, _ := filepath.Glob(filepath.Join(m.cfg.Dir, "*.json"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		var rec record
		if err == nil && json.Unmarshal(b, &rec) == nil {
			if fi, err := os.Lstat(rec.Path); err == nil {
				if dev, ino := fileID(fi); dev == rec.Dev && ino == rec.Ino && ino != 0 {
					os.Remove(rec.Path)
					m.log.Warn("removed a grant left by an agent that did not stop cleanly", zap.String("path", rec.Path))
				}
			}
			if rec.OwnDir != "" && filepath.Dir(rec.OwnDir) == filepath.Clean(m.cfg.Dir) && !strings.HasPrefix(filepath.Base(rec.OwnDir), ".") {
				os.RemoveAll(rec.OwnDir)
			}
		}
		os.Remove(name)
	}
}
