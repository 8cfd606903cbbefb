// Package runtime starts plugin processes, supervises them and multiplexes
// sessions (tool invocations) over their stdin/stdout.
//
// The package has two layers. A conn (conn.go, session.go) multiplexes
// sessions over any line-oriented reader and writer; it knows nothing about
// processes, so a remote (TCP) plugin can reuse it. A plugin (supervise.go,
// process.go, memory.go) owns one plugin's process: it launches it, watches
// its heartbeats, memory and exit, and restarts it with backoff.
//
// Behaviour choices callers can rely on:
//   - Invoke on a plugin that is starting or restarting waits until it is
//     running, bounded by ctx and Config.InvokeTimeout; on a failed or stopped
//     plugin it fails at once with plugboard.EUNAVAILABLE.
//   - Invoke on a plugin at its concurrency limit fails at once with
//     plugboard.EBUSY "plugin X is busy: all N of its invocation slots are in use…".
//   - The invocation timeout is Spec.InvokeTimeout, or Config.InvokeTimeout
//     when zero; SetInvokeTimeout changes it for later invocations.
//   - A session whose ctx ends is cancelled (the plugin gets a cancel line);
//     Recv then returns plugboard.ETIMEOUT when the deadline passed, or an error
//     wrapping context.Canceled when the caller cancelled.
//   - A crash, a heartbeat loss, a memory-limit kill or Stop ends every
//     in-flight session at once with an plugboard.EUNAVAILABLE error saying why.
package runtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
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
	PidsLimit        int           // processes and threads per plugin, where a cgroup enforces it (512)
	// RemoteHeartbeatTimeout is the silence after which a remote (debugging)
	// plugin is disconnected (DefaultRemoteHeartbeatTimeout).
	RemoteHeartbeatTimeout time.Duration
	// CallBacks answers the plugins' calls back into their host (nil:
	// each is answered with an error).
	CallBacks CallBacks
	Logger    *slog.Logger

	tracker *callTracker // set by NewManager, shared by its plugins
}

// DefaultStartTimeout applies when Spec.StartTimeout is zero.
const DefaultStartTimeout = 120 * time.Second

// StopGrace is how long Stop waits for a plugin to exit after its stdin is
// closed before it kills the process group.
const StopGrace = 2 * time.Second

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.HeartbeatTimeout, 35*time.Second)
	def(&c.InvokeTimeout, 600*time.Second)
	def(&c.BackoffMin, 500*time.Millisecond)
	def(&c.BackoffMax, 60*time.Second)
	def(&c.MemoryPoll, time.Second)
	def(&c.RemoteHeartbeatTimeout, DefaultRemoteHeartbeatTimeout)
	defInt(&c.MaxConcurrent, 256)
	defInt(&c.MaxRestarts, 10)
	defInt(&c.LogLines, 1000)
	defInt(&c.MaxLineBytes, 5<<20)
	defInt(&c.PidsLimit, 512)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
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
	// InvokeTimeout limits each invocation; 0 means Config.InvokeTimeout.
	InvokeTimeout time.Duration
	// ReadOnly lists paths outside Dir the plugin may read and execute (an
	// interpreter's prefix, its library dirs); system dirs are always readable.
	ReadOnly []string
	// Hide lists dirs the plugin must not see at all, though Dir may lie
	// inside them (the daemon's data dir), where a mount namespace can hide them.
	Hide []string
}

// Manager runs and supervises plugin processes.
type Manager struct {
	cfg     Config
	mu      sync.RWMutex
	plugins map[string]*plugin
	mem     *memoryWatch
}

// NewManager returns a Manager with cfg's defaults filled in.
func NewManager(cfg Config) *Manager {
	sweepLeftovers()
	m := &Manager{cfg: cfg.withDefaults(), plugins: map[string]*plugin{}}
	m.cfg.tracker = new(callTracker)
	m.mem = newMemoryWatch(m.cfg.MemoryPoll, m.snapshot)
	return m
}

// Start launches the plugin and waits until it is ready (its first heartbeat),
// failing — with nothing left running — if it exits or stays silent past
// spec.StartTimeout. Once ready it is supervised until Stop.
//
// Starting a key that is already starting or running is an plugboard.ECONFLICT; a
// key whose plugin failed or stopped is started afresh (its log ring kept).
func (m *Manager) Start(ctx context.Context, spec Spec) error {
	if err := validateSpec(spec); err != nil {
		return err
	}
	m.mu.Lock()
	old := m.plugins[spec.Key]
	if old != nil && !old.ended() {
		m.mu.Unlock()
		return plugboard.Errorf(plugboard.ECONFLICT, "plugin %s is already running", spec.PluginID)
	}
	var ring *logRing
	if old != nil {
		ring = old.ring
	}
	p := newPlugin(m.cfg, spec, ring, m.mem)
	m.plugins[spec.Key] = p
	m.mu.Unlock()
	return p.start(ctx)
}

// Stop ends the plugin's process group and forgets it.
func (m *Manager) Stop(key string) error {
	m.mu.Lock()
	p := m.plugins[key]
	delete(m.plugins, key)
	m.mu.Unlock()
	if p == nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "no plugin runtime %q", key)
	}
	p.stop()
	return nil
}

// Close stops every plugin.
func (m *Manager) Close() error {
	m.mu.Lock()
	all := m.plugins
	m.plugins = map[string]*plugin{}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range all {
		wg.Go(p.stop)
	}
	wg.Wait()
	m.cfg.tracker.wg.Wait() // every session has ended, so every call back is ending
	m.mem.close()
	return nil
}

// Invoke opens a session on the plugin and sends it req.
func (m *Manager) Invoke(ctx context.Context, key string, req *protocol.RequestData) (*Stream, error) {
	p := m.get(key)
	if p == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "no plugin runtime %q", key)
	}
	if req == nil {
		return nil, plugboard.Errorf(plugboard.EINVALID, "plugin %s: empty request", p.spec.PluginID)
	}
	return p.invoke(ctx, req)
}

// SetInvokeTimeout changes the plugin's per-invocation limit for the
// invocations that start from now on; d <= 0 restores Config.InvokeTimeout.
func (m *Manager) SetInvokeTimeout(key string, d time.Duration) error {
	p := m.get(key)
	if p == nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "no plugin runtime %q", key)
	}
	p.setTimeout(d)
	return nil
}

// InvokeTimeout is the daemon's default per-invocation limit.
func (m *Manager) InvokeTimeout() time.Duration { return m.cfg.InvokeTimeout }

// Status reports the plugin's process state.
func (m *Manager) Status(key string) (apispec.RuntimeStatus, bool) {
	p := m.get(key)
	if p == nil {
		return apispec.RuntimeStatus{}, false
	}
	return p.status(), true
}

// Logs returns up to limit of the plugin's latest log entries, oldest first.
func (m *Manager) Logs(key string, limit int) []apispec.LogEntry {
	p := m.get(key)
	if p == nil {
		return nil
	}
	return p.ring.last(limit)
}

func (m *Manager) get(key string) *plugin {
	m.mu.RLock()
	p := m.plugins[key]
	m.mu.RUnlock()
	return p
}

// snapshot lists the plugins for the memory watchdog.
func (m *Manager) snapshot() []*plugin {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*plugin, 0, len(m.plugins))
	for _, p := range m.plugins {
		out = append(out, p)
	}
	return out
}

func validateSpec(spec Spec) error {
	switch {
	case spec.Key == "":
		return plugboard.Errorf(plugboard.EINVALID, "runtime spec: key is empty")
	case len(spec.Command) == 0 || spec.Command[0] == "":
		return plugboard.Errorf(plugboard.EINVALID, "plugin %s: no command to run", spec.PluginID)
	case spec.Dir == "":
		return plugboard.Errorf(plugboard.EINVALID, "plugin %s: no working directory", spec.PluginID)
	case spec.MemoryLimit < 0:
		return plugboard.Errorf(plugboard.EINVALID, "plugin %s: negative memory limit", spec.PluginID)
	}
	return nil
}

// Stream is one session's output.
type Stream struct {
	s *session
}

// Recv returns the next tool message (raw JSON), io.EOF at the end, or an
// error: *PluginError when the plugin reported one, *plugboard.Error otherwise.
func (s *Stream) Recv() (json.RawMessage, error) { return s.s.recv() }

// Buffered reports how many messages are ready to Recv without waiting.
func (s *Stream) Buffered() int { return s.s.buffered() }

// ID returns the session id sent to the plugin (for logs and correlation).
func (s *Stream) ID() string { return s.s.id }

// Close ends the session, sending the plugin a cancel if it is still running.
func (s *Stream) Close() { s.s.finish(errStreamClosed, true) }

// PluginError is an error the plugin itself reported for a session.
type PluginError struct {
	Type    string
	Message string
	Args    any
}

func (e *PluginError) Error() string { return e.Type + ": " + e.Message }
