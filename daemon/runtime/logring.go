package runtime

import (
	"sync"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
)

// Log sources of apispec.LogEntry.
const (
	sourceStderr = "stderr"
	sourceLog    = "log"
	sourceDaemon = "daemon"
)

// maxLogMessage caps one log entry's message; longer ones are truncated.
const maxLogMessage = 8 << 10

// logRing keeps a plugin's latest log entries in a fixed-size ring.
type logRing struct {
	mu      sync.Mutex
	entries []apispec.LogEntry
	next    int  // index the next entry is written to
	full    bool // every slot holds an entry
}

func newLogRing(size int) *logRing {
	return &logRing{entries: make([]apispec.LogEntry, size)}
}

// add records one entry, dropping the oldest when the ring is full.
func (r *logRing) add(source, level, message string) {
	r.addAt(time.Now(), source, level, message)
}

func (r *logRing) addAt(t time.Time, source, level, message string) {
	e := apispec.LogEntry{Time: t, Source: source, Level: level, Message: truncate(message, maxLogMessage)}
	r.mu.Lock()
	r.entries[r.next] = e
	r.next++
	if r.next == len(r.entries) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

// last returns up to limit of the latest entries, oldest first; limit <= 0
// means all of them.
func (r *logRing) last(limit int) []apispec.LogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.entries)
	}
	if limit <= 0 || limit > n {
		limit = n
	}
	out := make([]apispec.LogEntry, limit)
	start := r.next - limit
	if start < 0 {
		start += len(r.entries)
	}
	for i := range out {
		out[i] = r.entries[(start+i)%len(r.entries)]
	}
	return out
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "… (truncated)"
}
