// Package runtime starts plugin processes, supervises them and multiplexes
// sessions (tool invocations) over their stdin/stdout.
//
// CONTRACT STUB: the exported API below is fixed; bodies are being written.
package runtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/protocol"
)

// Config tunes supervision; zero fields take the defaults noted.
type Config struct {
	HeartbeatTimeout time.Duration // silence before a restart (35 s)
	InvokeTimeout    time.Duration // per-invocation limit (600 s)
	MaxConcurrent    int           // in-flight invocations per plugin (256)
	BackoffMin       time.Duration // first restart delay (500 ms)
	BackoffMax       time.Duration // restart delay cap (60 s)
	MaxRestarts      int           // consecutive failed restarts before "failed" (10)
	LogLines         int           // per-plugin log ring size (1000)
	MaxLineBytes     int           // longest accepted stdout line (5 MiB)
	MemoryPoll       time.Duration // RSS watchdog interval (1 s)
	Logger           *slog.Logger
}

// Spec says how to run one plugin.
type Spec struct {
	Key          string   // the runtime's key: the plugin's unique identifier
	PluginID     string   // author/name, for messages
	Dir          string   // working directory
	Command      []string // executable and arguments
	Env          []string // extra KEY=VALUE pairs; the rest of the environment is scrubbed
	StartTimeout time.Duration
	MemoryLimit  int64 // bytes; 0 means none
}

// Manager runs and supervises plugin processes.
type Manager struct{}

// NewManager returns a Manager with cfg's defaults filled in.
func NewManager(cfg Config) *Manager { panic("not implemented") }

// Start launches the plugin and waits until it is ready (its first heartbeat),
// failing — with nothing left running — if it exits or stays silent past
// spec.StartTimeout. Once ready it is supervised until Stop.
func (m *Manager) Start(ctx context.Context, spec Spec) error { panic("not implemented") }

// Stop ends the plugin's process group and forgets it.
func (m *Manager) Stop(key string) error { panic("not implemented") }

// Close stops every plugin.
func (m *Manager) Close() error { panic("not implemented") }

// Invoke opens a session on the plugin and sends it req.
func (m *Manager) Invoke(ctx context.Context, key string, req *protocol.RequestData) (*Stream, error) {
	panic("not implemented")
}

// Status reports the plugin's process state.
func (m *Manager) Status(key string) (apispec.RuntimeStatus, bool) { panic("not implemented") }

// Logs returns up to limit of the plugin's latest log entries, oldest first.
func (m *Manager) Logs(key string, limit int) []apispec.LogEntry { panic("not implemented") }

// Stream is one session's output.
type Stream struct{}

// Recv returns the next tool message (raw JSON), io.EOF at the end, or an
// error: *PluginError when the plugin reported one, *errs.Error otherwise.
func (s *Stream) Recv() (json.RawMessage, error) { panic("not implemented") }

// Buffered reports how many messages are ready to Recv without waiting.
func (s *Stream) Buffered() int { panic("not implemented") }

// Close ends the session, sending the plugin a cancel if it is still running.
func (s *Stream) Close() { panic("not implemented") }

// PluginError is an error the plugin itself reported for a session.
type PluginError struct {
	Type    string
	Message string
	Args    any
}

func (e *PluginError) Error() string { return e.Type + ": " + e.Message }
