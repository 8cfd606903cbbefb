package manager

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/runner"
)

// Install log entries: their source, and how many of a build's lines are kept.
const (
	sourceInstall   = "install"
	installLogLines = 1000
	installLogLine  = 8 << 10
)

// installLogs keeps, per plugin id, the output of its latest environment
// build (venv, pip, uv), so that the plugin's log shows it next to the
// process's own lines, even when the install failed and nothing runs.
type installLogs struct {
	mu sync.Mutex
	m  map[string][]apispec.LogEntry
}

// begin starts a new build's log for pluginID, dropping the last one.
func (l *installLogs) begin(pluginID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string][]apispec.LogEntry{}
	}
	l.m[pluginID] = nil
}

func (l *installLogs) add(pluginID, level, message string) {
	if len(message) > installLogLine {
		message = message[:installLogLine] + "… (truncated)"
	}
	e := apispec.LogEntry{Time: time.Now().UTC(), Source: sourceInstall, Level: level, Message: message}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string][]apispec.LogEntry{}
	}
	entries := append(l.m[pluginID], e)
	if over := len(entries) - installLogLines; over > 0 {
		entries = slices.Delete(entries, 0, over)
	}
	l.m[pluginID] = entries
}

func (l *installLogs) get(pluginID string) []apispec.LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.m[pluginID])
}

func (l *installLogs) drop(pluginID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, pluginID)
}

// writer is an io.Writer adding each line written to pluginID's log.
func (l *installLogs) writer(pluginID string) *installLogWriter {
	return &installLogWriter{logs: l, plugin: pluginID}
}

// installLogWriter splits a build's output into log lines.
type installLogWriter struct {
	logs   *installLogs
	plugin string
	buf    []byte
}

func (w *installLogWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

// Flush logs a last line without its newline.
func (w *installLogWriter) Flush() {
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}

func (w *installLogWriter) line(s string) {
	if s = strings.TrimRight(s, "\r"); strings.TrimSpace(s) != "" {
		w.logs.add(w.plugin, "info", s)
	}
}

// mergeLogs merges two time-ordered logs and keeps the last limit entries
// (all when limit <= 0).
func mergeLogs(a, b []apispec.LogEntry, limit int) []apispec.LogEntry {
	out := make([]apispec.LogEntry, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	slices.SortStableFunc(out, func(x, y apispec.LogEntry) int { return x.Time.Compare(y.Time) })
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}

// pythons remembers, per unique identifier, the interpreter its venv runs on.
type pythons struct{ m sync.Map }

func (p *pythons) set(uid string, it *runner.Interpreter) {
	if it == nil {
		p.m.Delete(uid)
		return
	}
	p.m.Store(uid, &apispec.Interpreter{Path: it.Path, Version: it.Version, Source: it.Source})
}

func (p *pythons) get(uid string) *apispec.Interpreter {
	if v, ok := p.m.Load(uid); ok {
		it := *v.(*apispec.Interpreter)
		return &it
	}
	return nil
}
