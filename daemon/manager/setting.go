package manager

import (
	"context"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/state"
)

// timeouts holds the invoke timeouts set per plugin id (absent: the
// daemon's default), read when a plugin's runtime starts.
type timeouts struct {
	mu sync.Mutex
	m  map[string]time.Duration
}

func (t *timeouts) get(pluginID string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[pluginID]
}

func (t *timeouts) set(pluginID string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d <= 0 {
		delete(t.m, pluginID)
		return
	}
	t.m[pluginID] = d
}

// loadSettings reads the stored per-plugin settings into memory.
func (m *Manager) loadSettings(ctx context.Context) error {
	all, err := m.db.FindPluginSettings(ctx)
	if err != nil {
		return err
	}
	for _, s := range all {
		m.timeouts.set(s.PluginID, s.InvokeTimeout)
	}
	return nil
}

// PluginSettings returns the settings of a plugin installed for tenant.
func (m *Manager) PluginSettings(ctx context.Context, tenant, pluginID string) (*apispec.PluginSettings, error) {
	if m.lookup(tenant, pluginID) == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s is not installed", pluginID)
	}
	return m.settingsOf(pluginID), nil
}

func (m *Manager) settingsOf(pluginID string) *apispec.PluginSettings {
	return &apispec.PluginSettings{
		PluginID:                    pluginID,
		InvokeTimeoutSeconds:        int(m.timeouts.get(pluginID) / time.Second),
		DefaultInvokeTimeoutSeconds: int(m.rt.InvokeTimeout() / time.Second),
	}
}

// SetPluginSettings stores a plugin's settings and applies them to its
// running versions at once (invocations already running keep their limit).
func (m *Manager) SetPluginSettings(ctx context.Context, tenant string, s apispec.PluginSettings) (*apispec.PluginSettings, error) {
	if s.InvokeTimeoutSeconds < 0 || s.InvokeTimeoutSeconds > apispec.MaxInvokeTimeoutSeconds {
		return nil, plugboard.Errorf(plugboard.EINVALID, "invoke_timeout_seconds must be between 1 and %d (a day), or 0 for the daemon's default; got %d",
			apispec.MaxInvokeTimeoutSeconds, s.InvokeTimeoutSeconds)
	}
	if m.lookup(tenant, s.PluginID) == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s is not installed", s.PluginID)
	}
	unlock := m.locks.lock(s.PluginID)
	defer unlock()
	d := time.Duration(s.InvokeTimeoutSeconds) * time.Second
	if err := m.db.SavePluginSettings(ctx, &state.PluginSettings{PluginID: s.PluginID, InvokeTimeout: d}); err != nil {
		return nil, err
	}
	m.timeouts.set(s.PluginID, d)
	for _, in := range *m.index.Load() {
		if in.id.PluginID() == s.PluginID {
			_ = m.rt.SetInvokeTimeout(in.uid, d) // not running: its start reads the new value
		}
	}
	return m.settingsOf(s.PluginID), nil
}
