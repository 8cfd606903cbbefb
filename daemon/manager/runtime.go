package manager

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/runner"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// runs tracks, per unique identifier, what the runtime cannot tell: that a
// plugin is being restored, or why its restore failed.
type runs struct {
	mu sync.Mutex
	m  map[string]*run
}

// run is one package's restore state.
type run struct {
	restoring bool
	err       string // why the last start failed, while not running
}

func (r *runs) set(uid string, restoring bool, err string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !restoring && err == "" {
		delete(r.m, uid)
		return
	}
	r.m[uid] = &run{restoring: restoring, err: err}
}

func (r *runs) get(uid string) (run, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if x := r.m[uid]; x != nil {
		return *x, true
	}
	return run{}, false
}

// stageFunc reports an install stage and what is happening in it.
type stageFunc func(stage, message string)

// startRuntime extracts and prepares the package id, whose declaration is
// man, into its working dir and starts its process. On failure nothing is
// left: no process, no directory.
func (m *Manager) startRuntime(ctx context.Context, id plugboard.Identifier, man *plugboard.Manifest, report stageFunc) error {
	report(apispec.StageVerifying, "checking the package and this host")
	if err := runner.Check(man, m.cfg.Runner); err != nil {
		return err
	}
	dir := m.workDir(id)
	report(apispec.StageExtracting, "extracting the package")
	if err := m.extract(id, dir); err != nil {
		return err
	}
	if err := m.prepareAndStart(ctx, id, man, dir, report); err != nil {
		m.rt.Stop(id.String())
		m.pythons.set(id.String(), nil)
		os.RemoveAll(dir)
		return err
	}
	return nil
}

// prepareAndStart readies an extracted dir, marks it ready and starts it.
func (m *Manager) prepareAndStart(ctx context.Context, id plugboard.Identifier, man *plugboard.Manifest, dir string, report stageFunc) error {
	prep, err := m.prepare(ctx, id, man, dir, report)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, readyMarker), nil, 0o644); err != nil {
		return err
	}
	m.pythons.set(id.String(), prep.Python)
	report(apispec.StageStarting, "starting the plugin process and waiting for its first heartbeat")
	spec, err := m.spec(ctx, id, man, dir, prep.Command)
	if err != nil {
		return err
	}
	return m.rt.Start(ctx, spec)
}

// prepare runs the runner's preparation, reporting its progress as the
// stage's message and sending the tools' output to the plugin's log.
func (m *Manager) prepare(ctx context.Context, id plugboard.Identifier, man *plugboard.Manifest, dir string, report stageFunc) (*runner.Prepared, error) {
	report(apispec.StagePreparing, preparingMessage(man))
	plugin := id.PluginID()
	m.installLogs.begin(plugin)
	opt := m.cfg.Runner
	out := m.installLogs.writer(plugin)
	if opt.Log == nil {
		opt.Log = io.MultiWriter(out, &logWriter{log: m.log, plugin: plugin})
	} else {
		opt.Log = io.MultiWriter(out, opt.Log)
	}
	opt.Progress = func(detail string) { report(apispec.StagePreparing, detail) }
	prep, err := runner.Prepare(ctx, man, dir, opt)
	out.Flush()
	if err != nil {
		m.installLogs.add(plugin, "error", "preparing the environment failed: "+plugboard.ErrorMessage(err))
		return nil, err
	}
	if prep.Python != nil {
		m.installLogs.add(plugin, "info", "environment ready on Python "+prep.Python.Version+" ("+prep.Python.Path+", found via "+prep.Python.Source+")")
	}
	return prep, nil
}

func preparingMessage(man *plugboard.Manifest) string {
	if man.Meta.Runner.Language == plugboard.RunnerPython {
		return "creating Python environment and installing dependencies"
	}
	return "checking the executable for this host"
}

// spec is the runtime spec of a prepared package.
func (m *Manager) spec(ctx context.Context, id plugboard.Identifier, man *plugboard.Manifest, dir string, cmd []string) (runtime.Spec, error) {
	timeout := m.cfg.StartTimeout
	if timeout <= 0 {
		timeout = runner.StartTimeout(man)
	}
	read, err := runner.ReadPaths(ctx, man, dir)
	if err != nil {
		return runtime.Spec{}, fmt.Errorf("plugin %s: cannot ask its interpreter where it is installed: %w", id.PluginID(), err)
	}
	return runtime.Spec{
		Key:          id.String(),
		PluginID:     id.PluginID(),
		Dir:          dir,
		Command:      cmd,
		StartTimeout: timeout,
		MemoryLimit:  MemoryLimit(man),
		// The plugin's own invoke timeout, when an admin set one.
		InvokeTimeout: m.timeouts.get(id.PluginID()),
		ReadOnly:      read,
		Hide:          append([]string{m.cfg.DataDir}, m.cfg.HideDirs...),
	}, nil
}

// Memory floors: the least a plugin is given, whatever it declares. Dify
// never enforced resource.memory, and real packages declare values such as
// 1 MiB that no Python interpreter fits in.
const (
	MinPythonMemory = 256 << 20
	MinBinaryMemory = 32 << 20
)

// MemoryLimit is the memory limit enforced for a plugin: its declared
// resource.memory, raised to its runner's floor; 0 (none) when it declares none.
func MemoryLimit(man *plugboard.Manifest) int64 {
	declared := man.Resource.Memory
	if declared <= 0 {
		return 0
	}
	floor := int64(MinBinaryMemory)
	if man.Meta.Runner.Language == plugboard.RunnerPython {
		floor = MinPythonMemory
	}
	return max(declared, floor)
}

// running reports whether uid has a live process (running or restarting).
func (m *Manager) running(uid string) bool {
	st, ok := m.rt.Status(uid)
	return ok && st.State != apispec.StateFailed && st.State != apispec.StateStopped
}

// stopRuntime stops uid's process and removes its working dir, after
// letting in-flight invocations finish when drain is set.
func (m *Manager) stopRuntime(id plugboard.Identifier, drain bool) {
	uid := id.String()
	if drain {
		m.drain(uid)
	}
	m.rt.Stop(uid)
	m.runs.set(uid, false, "")
	m.pythons.set(uid, nil)
	if err := os.RemoveAll(m.workDir(id)); err != nil {
		m.log.Warn("remove plugin directory", "plugin", uid, "err", err)
	}
}

// drain waits, up to drainLimit, until uid has no invocation in flight.
func (m *Manager) drain(uid string) {
	deadline := time.Now().Add(drainLimit)
	for time.Now().Before(deadline) {
		st, ok := m.rt.Status(uid)
		if !ok || st.InFlight == 0 {
			return
		}
		select {
		case <-m.ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// logWriter sends preparation output to the daemon log at debug level.
type logWriter struct {
	log    interface{ Debug(string, ...any) }
	plugin string
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.log.Debug("prepare", "plugin", w.plugin, "output", string(p))
	return len(p), nil
}
