package notify

import (
	"io"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Logger returns the agent's logger at level lvl: to the journal, with
// its fields, when w is this process's stderr and the service manager
// connected that to the journal; otherwise as text lines on w.
func Logger(w io.Writer, lvl zapcore.Level) *zap.Logger {
	if w == io.Writer(os.Stderr) && StderrIsJournal() {
		return zap.New(JournalCore(lvl))
	}
	cfg := zap.NewProductionEncoderConfig()
	cfg.EncodeTime = zapcore.ISO8601TimeEncoder
	return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(cfg), zapcore.AddSync(w), lvl))
}
