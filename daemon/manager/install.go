package manager

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/state"
)

// job is one plugin of an install task.
type job struct {
	id       plugboard.Identifier
	manifest *plugboard.Manifest
	source   string
	meta     map[string]any
}

// Install starts a task installing uploaded packages. When every one is
// already installed for the tenant it answers all_installed and starts none.
func (m *Manager) Install(ctx context.Context, tenant string, req apispec.InstallRequest) (*apispec.InstallResult, error) {
	jobs, err := m.jobs(ctx, req)
	if err != nil {
		return nil, err
	}
	if !req.ConfirmCodeChange {
		for _, j := range jobs {
			if cur := m.lookup(tenant, j.id.PluginID()); cur != nil && !cur.remote() {
				if err := codeChanged(cur.id, j.id); err != nil {
					return nil, err
				}
			}
		}
	}
	if m.allInstalled(tenant, jobs) {
		return &apispec.InstallResult{AllInstalled: true}, nil
	}
	return m.startTask(ctx, tenant, jobs)
}

// jobs checks that every identifier names an uploaded package, once per plugin.
func (m *Manager) jobs(ctx context.Context, req apispec.InstallRequest) ([]job, error) {
	if len(req.PluginUniqueIdentifiers) == 0 {
		return nil, plugboard.Errorf(plugboard.EINVALID, "plugin_unique_identifiers is empty: name at least one package to install")
	}
	seen := map[string]bool{}
	var out []job
	for i, uid := range req.PluginUniqueIdentifiers {
		id, man, err := m.packageRow(ctx, uid)
		if err != nil {
			return nil, err
		}
		if seen[id.PluginID()] {
			return nil, plugboard.Errorf(plugboard.EINVALID, "plugin %s appears more than once in plugin_unique_identifiers", id.PluginID())
		}
		seen[id.PluginID()] = true
		j := job{id: id, manifest: man, source: req.Source}
		if i < len(req.Metas) {
			j.meta = req.Metas[i]
		}
		out = append(out, j)
	}
	return out, nil
}

func (m *Manager) allInstalled(tenant string, jobs []job) bool {
	for _, j := range jobs {
		in := m.lookup(tenant, j.id.PluginID())
		if in == nil || in.uid != j.id.String() || !m.running(in.uid) {
			return false
		}
	}
	return true
}

// Upgrade replaces an installed version with another uploaded one: the new
// version starts before the old one stops, so invocations never fail.
func (m *Manager) Upgrade(ctx context.Context, tenant string, req apispec.UpgradeRequest) (*apispec.InstallResult, error) {
	orig, err := plugboard.ParseIdentifier(req.OriginalPluginUniqueIdentifier)
	if err != nil {
		return nil, err
	}
	id, man, err := m.packageRow(ctx, req.NewPluginUniqueIdentifier)
	if err != nil {
		return nil, err
	}
	if orig.PluginID() != id.PluginID() {
		return nil, plugboard.Errorf(plugboard.EINVALID, "cannot upgrade %s to %s: they are different plugins", orig.PluginID(), id.PluginID())
	}
	in := m.lookup(tenant, orig.PluginID())
	if in == nil || in.uid != orig.String() {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "plugin %s is not installed", orig)
	}
	if orig == id {
		return &apispec.InstallResult{AllInstalled: true}, nil
	}
	if !req.ConfirmCodeChange {
		if err := codeChanged(orig, id); err != nil {
			return nil, err
		}
	}
	return m.startTask(ctx, tenant, []job{{id: id, manifest: man, source: req.Source, meta: req.Meta}})
}

// codeChanged refuses replacing installed cur with next when both claim the
// same version but their code differs: that is no upgrade, and may be
// another package passing itself off as the installed one.
func codeChanged(cur, next plugboard.Identifier) error {
	if cur.Version != next.Version || cur.Checksum == next.Checksum {
		return nil
	}
	return plugboard.Errorf(plugboard.ECONFLICT,
		"plugin %s v%s is installed with other code (checksum %.12s…) than this package of the same version (checksum %.12s…); confirm the code change (confirm_code_change) to replace it",
		cur.PluginID(), cur.Version, cur.Checksum, next.Checksum)
}

// startTask records a pending task for jobs and runs it in the background.
func (m *Manager) startTask(ctx context.Context, tenant string, jobs []job) (*apispec.InstallResult, error) {
	t := &apispec.Task{ID: uuid.NewString(), TenantID: tenant, Status: apispec.TaskPending, TotalPlugins: len(jobs)}
	for _, j := range jobs {
		t.Plugins = append(t.Plugins, apispec.TaskPlugin{
			PluginUniqueIdentifier: j.id.String(),
			PluginID:               j.id.PluginID(),
			Labels:                 j.manifest.Label,
			Icon:                   j.manifest.Icon,
			IconDark:               j.manifest.IconDark,
			Status:                 apispec.TaskPending,
			Message:                "waiting to install",
			Source:                 j.source,
		})
	}
	uids := make([]string, len(jobs))
	for i, j := range jobs {
		uids[i] = j.id.String()
	}
	m.tasks.add(uids, 1) // before the task exists, so a sweep never sees it unprotected
	if err := m.db.CreateTask(ctx, t); err != nil {
		m.tasks.add(uids, -1)
		return nil, err
	}
	m.goBackground(func(ctx context.Context) {
		defer m.tasks.add(uids, -1)
		defer m.releaseMemory()
		m.runTask(ctx, t, jobs)
	})
	return &apispec.InstallResult{TaskID: t.ID}, nil
}

// runTask installs each plugin of t in turn, recording its progress.
func (m *Manager) runTask(ctx context.Context, t *apispec.Task, jobs []job) {
	t.Status = apispec.TaskRunning
	m.saveTask(t)
	failed := false
	for i, j := range jobs {
		clock := &stageClock{metrics: m.cfg.Metrics}
		report := func(stage, msg string) {
			clock.enter(stage)
			p := &t.Plugins[i]
			p.Status, p.Stage, p.Message = apispec.TaskRunning, stage, msg
			m.saveTask(t)
		}
		msg, err := m.installOne(ctx, t.TenantID, j, report)
		clock.done(err)
		p := &t.Plugins[i]
		if err != nil {
			failed = true
			p.Status, p.Message = apispec.TaskFailed, failureMessage(err)
			m.log.Warn("install failed", "plugin", j.id.String(), "tenant", t.TenantID, "err", err)
		} else {
			p.Status, p.Stage, p.Message = apispec.TaskSuccess, apispec.StageReady, msg
		}
		t.CompletedPlugins++
		m.saveTask(t)
	}
	t.Status = apispec.TaskSuccess
	if failed {
		t.Status = apispec.TaskFailed
	}
	m.saveTask(t)
}

// failureMessage is what a failed plugin's task entry says.
func failureMessage(err error) string {
	if errors.Is(err, context.Canceled) {
		return "cancelled: the daemon is shutting down"
	}
	if plugboard.ErrorCode(err) == plugboard.EINTERNAL {
		return "internal error: " + err.Error()
	}
	return plugboard.ErrorMessage(err)
}

// saveTask stores t's progress; a failure is logged, not fatal to the install.
func (m *Manager) saveTask(t *apispec.Task) {
	if err := m.db.UpdateTask(context.WithoutCancel(m.ctx), t); err != nil {
		m.log.Error("save install task", "task", t.ID, "err", err)
	}
}

// installOne installs (or upgrades to) j for tenant under the plugin's lock
// and returns the message for its task entry.
func (m *Manager) installOne(ctx context.Context, tenant string, j job, report stageFunc) (string, error) {
	unlock := m.locks.lock(j.id.PluginID())
	defer unlock()
	uid := j.id.String()
	cur := m.lookup(tenant, j.id.PluginID())
	if cur != nil && cur.remote() {
		return "", plugboard.Errorf(plugboard.ECONFLICT, "plugin %s is connected for remote debugging in this workspace; stop it before installing it", j.id.PluginID())
	}
	if cur != nil && cur.uid == uid && m.running(uid) {
		return "already installed", nil
	}
	started := false
	if !m.running(uid) {
		if err := m.startRuntime(ctx, j.id, j.manifest, report); err != nil {
			return "", err
		}
		started = true
		m.runs.set(uid, false, "")
	}
	if cur != nil && cur.uid == uid {
		return "started again", nil // its installation was there, its process was not
	}
	if err := m.commit(ctx, tenant, cur, j); err != nil {
		if started {
			m.stopRuntime(j.id, false)
		}
		return "", err
	}
	if cur != nil && !m.usesPackage(cur.uid) {
		m.stopRuntime(cur.id, true)
	}
	if cur != nil && cur.id.Version == j.id.Version {
		return "replaced the code of v" + cur.id.Version + " (same version, other checksum)", nil
	}
	if cur != nil {
		return "upgraded from " + cur.id.Version, nil
	}
	return "installed", nil
}

// commit records the installation (or its switch to j's version) and
// updates the index to match.
func (m *Manager) commit(ctx context.Context, tenant string, cur *installed, j job) error {
	if cur == nil {
		inst := &state.Installation{ID: uuid.NewString(), TenantID: tenant, PluginID: j.id.PluginID(),
			UniqueIdentifier: j.id.String(), Source: j.source, Meta: j.meta, RuntimeType: "local"}
		if err := m.db.CreateInstallation(ctx, inst); err != nil {
			return err
		}
		m.setInstalled(newInstalled(inst, j.id, j.manifest))
		return nil
	}
	upd := state.InstallationUpdate{UniqueIdentifier: j.id.String(), Source: j.source, Meta: j.meta}
	if err := m.db.UpdateInstallation(ctx, cur.inst.ID, upd); err != nil {
		return err
	}
	inst := *cur.inst
	inst.UniqueIdentifier, inst.Source, inst.Meta, inst.UpdatedAt = upd.UniqueIdentifier, upd.Source, upd.Meta, m.cfg.Now().UTC()
	m.setInstalled(newInstalled(&inst, j.id, j.manifest))
	return nil
}
