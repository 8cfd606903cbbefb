package runtime

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// plugin supervises one plugin: its current instance, its state, restarts.
type plugin struct {
	cfg  Config
	spec Spec
	ring *logRing
	mem  *memoryWatch

	slots   chan struct{}        // concurrency cap: one token per in-flight session
	timeout atomic.Int64         // per-invocation limit in nanoseconds (SetInvokeTimeout)
	live    atomic.Pointer[conn] // the conn to invoke on while running

	life     context.Context // ends at Stop
	stopLife context.CancelFunc
	finished chan struct{} // closed when the supervising goroutine returns

	mu        sync.Mutex
	state     string
	lastError string
	restarts  int
	inst      *instance
	changed   chan struct{} // closed and replaced at every state change

	attachedAt time.Time // when a remote plugin connected (zero for a process)
}

func newPlugin(cfg Config, spec Spec, ring *logRing, mem *memoryWatch) *plugin {
	if ring == nil {
		ring = newLogRing(cfg.LogLines)
	}
	if spec.StartTimeout <= 0 {
		spec.StartTimeout = DefaultStartTimeout
	}
	if spec.PluginID == "" {
		spec.PluginID = spec.Key
	}
	life, stop := context.WithCancel(context.Background())
	p := &plugin{
		cfg: cfg, spec: spec, ring: ring, mem: mem,
		slots: make(chan struct{}, cfg.MaxConcurrent),
		life:  life, stopLife: stop,
		finished: make(chan struct{}),
		state:    apispec.StateStarting,
		changed:  make(chan struct{}),
	}
	p.setTimeout(spec.InvokeTimeout)
	return p
}

// setTimeout sets the invocation limit; d <= 0 means the daemon's default.
func (p *plugin) setTimeout(d time.Duration) {
	if d <= 0 {
		d = p.cfg.InvokeTimeout
	}
	p.timeout.Store(int64(d))
}

// invokeTimeout is the current per-invocation limit.
func (p *plugin) invokeTimeout() time.Duration { return time.Duration(p.timeout.Load()) }

// start runs the first launch and, once it is ready, supervises it in the
// background. A failed first launch leaves the plugin "failed" and nothing
// running.
func (p *plugin) start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopWatch := context.AfterFunc(p.life, cancel)
	defer stopWatch()
	inst, err := p.launch(ctx)
	if err != nil {
		p.setState(apispec.StateFailed, err.Error(), nil)
		close(p.finished)
		return err
	}
	p.mem.watch()
	go p.supervise(inst)
	return nil
}

// launch starts a process and waits for its first heartbeat.
func (p *plugin) launch(ctx context.Context) (*instance, error) {
	inst, err := startProcess(p.spec, p.cfg, p.ring)
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(p.spec.StartTimeout)
	defer timer.Stop()
	select {
	case <-inst.conn.ready:
		p.setState(apispec.StateRunning, "", inst)
		p.ring.add(sourceDaemon, "info", fmt.Sprintf("ready (pid %d)", inst.pid))
		return inst, nil
	case <-inst.exited:
		return nil, p.startError(inst, fmt.Sprintf("exited before it was ready (%s)", inst.exitStatus()))
	case <-timer.C:
		inst.kill("start timeout")
		<-inst.exited
		return nil, p.startError(inst, fmt.Sprintf("sent no heartbeat within %s of starting, so it was stopped", p.spec.StartTimeout))
	case <-ctx.Done():
		inst.kill("start cancelled")
		<-inst.exited
		return nil, plugboard.Errorf(plugboard.EUNAVAILABLE, "plugin %s: start cancelled before it was ready", p.spec.PluginID)
	}
}

func (p *plugin) startError(inst *instance, what string) error {
	inst.conn.close(plugboard.Errorf(plugboard.EUNAVAILABLE, "plugin %s is not running", p.spec.PluginID))
	inst.cg.remove()
	msg := inst.withStderr(fmt.Sprintf("plugin %s %s", p.spec.PluginID, what), stderrTailLines)
	p.ring.add(sourceDaemon, "error", msg)
	return plugboard.Errorf(plugboard.EUNAVAILABLE, "%s", msg)
}

// supervise watches the running instance and restarts it with backoff when
// it dies, until Stop or too many failed restarts.
func (p *plugin) supervise(inst *instance) {
	defer close(p.finished)
	for {
		go p.monitor(inst)
		if stopped := p.await(inst); stopped {
			return
		}
		if inst = p.restart(); inst == nil {
			return
		}
	}
}

// await blocks until inst ends; on Stop it shuts inst down and reports true.
func (p *plugin) await(inst *instance) bool {
	select {
	case <-inst.exited:
	case <-p.life.Done():
		p.shutdown(inst)
		return true
	}
	msg, lastErr := p.exitMessage(inst)
	// Unpublish the conn before closing it, so new invocations wait for the
	// next instance instead of finding a closed one.
	p.setState(apispec.StateRestarting, lastErr, nil)
	inst.conn.close(plugboard.Errorf(plugboard.EUNAVAILABLE, "%s", msg))
	inst.cg.remove()
	p.ring.add(sourceDaemon, "error", lastErr)
	p.cfg.Logger.Warn("plugin process ended", "plugin", p.spec.PluginID, "error", lastErr)
	return false
}

// exitMessage says why inst ended: the message for in-flight sessions and
// the plugin's last error.
func (p *plugin) exitMessage(inst *instance) (session, last string) {
	id := p.spec.PluginID
	reason := inst.killReason()
	if reason == "" && inst.cg.oomKilled() {
		reason = fmt.Sprintf("was stopped: over its memory limit (%s)", mib(p.spec.MemoryLimit))
	}
	if reason != "" {
		msg := fmt.Sprintf("plugin %s %s", id, reason)
		return msg, msg
	}
	status := inst.exitStatus()
	session = inst.withStderr(fmt.Sprintf("plugin %s exited unexpectedly (%s) while handling this request", id, status), 1)
	last = inst.withStderr(fmt.Sprintf("plugin %s exited unexpectedly (%s)", id, status), 1)
	return session, last
}

// restart relaunches the plugin with exponential backoff; nil when it was
// stopped or gave up ("failed").
func (p *plugin) restart() *instance {
	backoff := p.cfg.BackoffMin
	for failures := 0; ; {
		select {
		case <-time.After(backoff):
		case <-p.life.Done():
			p.setState(apispec.StateStopped, "", nil)
			return nil
		}
		p.mu.Lock()
		p.restarts++
		p.mu.Unlock()
		inst, err := p.launch(p.life)
		if err == nil {
			return inst
		}
		if p.life.Err() != nil {
			p.setState(apispec.StateStopped, "", nil)
			return nil
		}
		if failures++; failures >= p.cfg.MaxRestarts {
			p.setState(apispec.StateFailed, err.Error(), nil)
			return nil
		}
		p.setState(apispec.StateRestarting, err.Error(), nil)
		backoff = min(backoff*2, p.cfg.BackoffMax)
	}
}

// monitor kills inst when it goes silent or stops reading its input.
func (p *plugin) monitor(inst *instance) {
	hb := p.cfg.HeartbeatTimeout
	tick := time.NewTicker(max(hb/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-inst.exited:
			return
		case <-tick.C:
		}
		if !inst.conn.alive(hb) {
			inst.kill(fmt.Sprintf("sent no heartbeat for %s and was restarted", hb))
		} else if inst.conn.w.stuckFor() > hb {
			inst.kill(fmt.Sprintf("stopped reading its input for %s and was restarted", hb))
		}
	}
}

// shutdown ends inst for Stop: stdin closed, a grace period, then SIGKILL.
func (p *plugin) shutdown(inst *instance) {
	p.live.Store(nil)
	_ = inst.stdin.Close()
	select {
	case <-inst.exited:
	case <-time.After(StopGrace):
		inst.kill("stopped")
		<-inst.exited
	}
	inst.killGroup()
	inst.conn.close(plugboard.Errorf(plugboard.EUNAVAILABLE, "plugin %s was stopped while handling this request", p.spec.PluginID))
	inst.cg.remove()
	p.ring.add(sourceDaemon, "info", "stopped ("+inst.exitStatus()+")")
	p.setState(apispec.StateStopped, "", nil)
}

// stop ends supervision and waits for the process to be gone.
func (p *plugin) stop() {
	p.stopLife()
	<-p.finished
	p.mu.Lock()
	if p.state != apispec.StateFailed {
		p.setStateLocked(apispec.StateStopped, p.lastError, nil)
	}
	p.mu.Unlock()
}

// ended reports whether the plugin has failed or stopped for good.
func (p *plugin) ended() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == apispec.StateFailed || p.state == apispec.StateStopped
}

func (p *plugin) setState(state, lastError string, inst *instance) {
	p.mu.Lock()
	p.setStateLocked(state, lastError, inst)
	p.mu.Unlock()
}

func (p *plugin) setStateLocked(state, lastError string, inst *instance) {
	p.state, p.inst = state, inst
	if lastError != "" {
		p.lastError = lastError
	}
	if inst != nil {
		p.live.Store(inst.conn)
	} else {
		p.live.Store(nil)
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *plugin) status() apispec.RuntimeStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := apispec.RuntimeStatus{
		State:       p.state,
		LastError:   p.lastError,
		Restarts:    p.restarts,
		MemoryLimit: p.spec.MemoryLimit,
		InFlight:    len(p.slots),
	}
	if p.inst != nil {
		st.PID, st.StartedAt = p.inst.pid, p.inst.started
		st.MemoryBytes = p.inst.memory.Load()
		st.Containment = p.inst.containment
	} else if p.state == apispec.StateRunning {
		st.StartedAt = p.attachedAt
	}
	return st
}
