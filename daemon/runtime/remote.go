package runtime

import (
	"fmt"
	"io"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// DefaultRemoteHeartbeatTimeout is how long a remote plugin may stay silent
// before it is disconnected (Dify's 60 s), when Config leaves it zero.
const DefaultRemoteHeartbeatTimeout = 60 * time.Second

// Remote is a plugin attached over a connection the caller accepted (remote
// debugging). It has no process: it runs while the connection lasts.
type Remote struct {
	done chan struct{}
	err  error
}

// Done is closed once the connection has ended and every session in flight
// on it has ended with an error.
func (r *Remote) Done() <-chan struct{} { return r.done }

// Err says why the connection ended; valid after Done.
func (r *Remote) Err() error { return r.err }

// Attach registers a remote plugin under key, reachable by reading its
// events from r and writing requests to w; closer closes the connection.
// The plugin is "running" at once (the caller has done the handshake), with
// no pid. It stays until the connection ends, it is silent for
// DefaultRemoteHeartbeatTimeout, or Stop(key): then every in-flight session
// ends with an plugboard.EUNAVAILABLE error saying the plugin disconnected, and
// key is forgotten. Attaching a key that is already running is an
// plugboard.ECONFLICT.
func (m *Manager) Attach(key, pluginID string, r io.Reader, w io.Writer, closer io.Closer) (*Remote, error) {
	if key == "" {
		return nil, plugboard.Errorf(plugboard.EINVALID, "runtime spec: key is empty")
	}
	m.mu.Lock()
	old := m.plugins[key]
	if old != nil && !old.ended() {
		m.mu.Unlock()
		return nil, plugboard.Errorf(plugboard.ECONFLICT, "plugin %s is already running", pluginID)
	}
	var ring *logRing
	if old != nil {
		ring = old.ring
	}
	p := newPlugin(m.cfg, Spec{Key: key, PluginID: pluginID}, ring, m.mem)
	c := newConn(p.spec.PluginID, r, w, m.cfg.MaxLineBytes, p.ring, m.cfg.Logger)
	c.withCallBacks(key, m.cfg)
	p.mu.Lock()
	p.attachedAt = time.Now()
	p.setStateLocked(apispec.StateRunning, "", nil)
	p.live.Store(c)
	p.mu.Unlock()
	m.plugins[key] = p
	m.mu.Unlock()
	p.ring.add(sourceDaemon, "info", "remote plugin connected")
	rem := &Remote{done: make(chan struct{})}
	forget := func() {
		m.mu.Lock()
		if m.plugins[key] == p {
			delete(m.plugins, key)
		}
		m.mu.Unlock()
	}
	go p.serveRemote(c, closer, rem, forget)
	return rem, nil
}

// serveRemote reads a remote plugin's events until its connection ends,
// it goes silent, or it is stopped; then it ends its sessions and forgets it.
func (p *plugin) serveRemote(c *conn, closer io.Closer, rem *Remote, forget func()) {
	readDone := make(chan error, 1)
	go func() { readDone <- c.readLoop() }()
	why := p.watchRemote(c, readDone)
	_ = closer.Close()
	if why != "disconnected" {
		<-readDone
	}
	msg := fmt.Sprintf("plugin %s (remote) %s", p.spec.PluginID, why)
	p.setState(apispec.StateStopped, msg, nil)
	c.close(plugboard.Errorf(plugboard.EUNAVAILABLE, "%s while handling this request", msg))
	p.ring.add(sourceDaemon, "info", msg)
	p.cfg.Logger.Info("remote plugin ended", "plugin", p.spec.PluginID, "reason", why)
	forget()
	rem.err = plugboard.Errorf(plugboard.EUNAVAILABLE, "%s", msg)
	close(rem.done)
	close(p.finished)
}

// watchRemote waits for the end of a remote plugin's connection and says why.
func (p *plugin) watchRemote(c *conn, readDone <-chan error) string {
	hb := p.cfg.RemoteHeartbeatTimeout
	tick := time.NewTicker(max(hb/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-readDone:
			return "disconnected"
		case <-p.life.Done():
			return "was disconnected by the daemon"
		case <-tick.C:
		}
		if !c.alive(hb) {
			return fmt.Sprintf("sent no heartbeat for %s and was disconnected", hb)
		}
		if c.w.stuckFor() > hb {
			return fmt.Sprintf("stopped reading for %s and was disconnected", hb)
		}
	}
}
