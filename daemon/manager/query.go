package manager

import (
	"context"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// Task returns one install task.
func (m *Manager) Task(ctx context.Context, tenant, id string) (*apispec.Task, error) {
	return m.db.FindTask(ctx, tenant, id)
}

// Tasks lists install tasks, newest first (page is 1-based; size <= 0 means all).
func (m *Manager) Tasks(ctx context.Context, tenant string, page, size int) ([]apispec.Task, error) {
	if page < 1 {
		page = 1
	}
	return m.db.FindTasks(ctx, tenant, (page-1)*max(size, 0), size)
}

// DeleteTask removes a finished task ("" removes every finished task); a
// task still running is an plugboard.ECONFLICT.
func (m *Manager) DeleteTask(ctx context.Context, tenant, id string) error {
	if id == "" {
		return m.db.DeleteFinishedTasks(ctx, tenant)
	}
	return m.db.DeleteTask(ctx, tenant, id)
}

// List returns a page of installations with their runtime state.
func (m *Manager) List(ctx context.Context, tenant string, pageNo, size int) (*apispec.Page[apispec.Installation], error) {
	m.refreshMCP(tenant)
	all := m.tenantInstallations(tenant)
	lo, hi := page(len(all), pageNo, size)
	out := &apispec.Page[apispec.Installation]{List: []apispec.Installation{}, Total: len(all)}
	for _, in := range all[lo:hi] {
		out.List = append(out.List, m.installation(in))
	}
	return out, nil
}

// installation is in as the API lists it.
func (m *Manager) installation(in *installed) apispec.Installation {
	st := m.status(in.uid)
	return apispec.Installation{
		ID:                     in.inst.ID,
		InstallationID:         in.inst.ID,
		TenantID:               in.inst.TenantID,
		PluginID:               in.inst.PluginID,
		PluginUniqueIdentifier: in.uid,
		Name:                   in.id.Name,
		Version:                in.id.Version,
		Checksum:               in.id.Checksum,
		Category:               in.manifest.Category(),
		RuntimeType:            in.inst.RuntimeType,
		Source:                 in.inst.Source,
		Meta:                   orEmpty(in.inst.Meta),
		Declaration:            in.manifest,
		CreatedAt:              in.inst.CreatedAt,
		UpdatedAt:              in.inst.UpdatedAt,
		Runtime:                &st,
	}
}

// Tools lists the tool providers of the tenant's installed plugins.
func (m *Manager) Tools(ctx context.Context, tenant string, pageNo, size int) ([]apispec.ToolProviderEntry, error) {
	m.refreshMCP(tenant)
	var all []*installed
	for _, in := range m.tenantInstallations(tenant) {
		if in.manifest.Tool != nil {
			all = append(all, in)
		}
	}
	lo, hi := page(len(all), pageNo, size)
	out := []apispec.ToolProviderEntry{}
	for _, in := range all[lo:hi] {
		out = append(out, toolEntry(in))
	}
	return out, nil
}

// Tool returns one tool provider.
func (m *Manager) Tool(ctx context.Context, tenant, pluginID, provider string) (*apispec.ToolProviderEntry, error) {
	m.refreshMCP(tenant)
	in := m.lookup(tenant, pluginID)
	if in == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s is not installed", pluginID)
	}
	if in.provider == "" || in.provider != provider {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s has no tool provider %q", pluginID, provider)
	}
	e := toolEntry(in)
	return &e, nil
}

func toolEntry(in *installed) apispec.ToolProviderEntry {
	return apispec.ToolProviderEntry{
		ID:                     in.inst.ID,
		PluginID:               in.inst.PluginID,
		PluginUniqueIdentifier: in.uid,
		Provider:               in.provider,
		Declaration:            in.manifest.Tool,
		TenantID:               in.inst.TenantID,
		CreatedAt:              in.inst.CreatedAt,
		UpdatedAt:              in.inst.UpdatedAt,
	}
}

// Status returns an installed plugin's runtime state.
func (m *Manager) Status(ctx context.Context, tenant, pluginID string) (*apispec.RuntimeStatus, error) {
	in := m.lookup(tenant, pluginID)
	if in == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s is not installed", pluginID)
	}
	st := m.status(in.uid)
	return &st, nil
}

// status is the runtime's view of uid, or the manager's while it restores
// it or after its restore failed.
func (m *Manager) status(uid string) apispec.RuntimeStatus {
	st := m.runtimeStatus(uid)
	st.Python = m.pythons.get(uid)
	return st
}

func (m *Manager) runtimeStatus(uid string) apispec.RuntimeStatus {
	if r, ok := m.runs.get(uid); ok && r.restoring {
		return apispec.RuntimeStatus{State: apispec.StateStarting}
	}
	if st, ok := m.rt.Status(uid); ok {
		return st
	}
	if r, ok := m.runs.get(uid); ok && r.err != "" {
		return apispec.RuntimeStatus{State: apispec.StateFailed, LastError: r.err}
	}
	return apispec.RuntimeStatus{State: apispec.StateStopped}
}

// Logs returns a plugin's latest log entries: its process's, and the output
// of its latest environment build (also when that install failed and the
// plugin is not installed).
func (m *Manager) Logs(ctx context.Context, tenant, pluginID string, limit int) ([]apispec.LogEntry, error) {
	build := m.installLogs.get(pluginID)
	in := m.lookup(tenant, pluginID)
	if in == nil && len(build) > 0 {
		return mergeLogs(build, nil, limit), nil
	}
	if in == nil {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s is not installed", pluginID)
	}
	logs := mergeLogs(build, m.rt.Logs(in.uid, limit), limit)
	if r, ok := m.runs.get(in.uid); ok && r.err != "" && len(logs) == 0 {
		logs = []apispec.LogEntry{{Time: m.cfg.Now().UTC(), Source: "daemon", Level: "error", Message: r.err}}
	}
	if logs == nil {
		logs = []apispec.LogEntry{}
	}
	return logs, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
