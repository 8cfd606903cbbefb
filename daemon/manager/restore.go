package manager

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/runner"
	"github.com/plugboard/plugboard/daemon/state"
)

// interruptedMessage is given to tasks that were running when the daemon stopped.
const interruptedMessage = "interrupted: the daemon stopped before this install finished; install again"

// load fails interrupted tasks, fills the index from the database and
// removes working dirs no installation uses.
func (m *Manager) load(ctx context.Context) error {
	if err := m.db.FailUnfinishedTasks(ctx, interruptedMessage); err != nil {
		return err
	}
	if err := m.loadSettings(ctx); err != nil {
		return err
	}
	insts, err := m.db.FindInstallations(ctx)
	if err != nil {
		return err
	}
	idx := index{}
	for _, inst := range insts {
		in, err := m.loadInstalled(ctx, inst)
		if err != nil {
			return err
		}
		idx[indexKey{inst.TenantID, inst.PluginID}] = in
	}
	m.index.Store(&idx)
	m.removeStaleDirs()
	m.removeStaleUnpacked()
	return nil
}

// loadInstalled indexes one stored installation with its package's declaration.
func (m *Manager) loadInstalled(ctx context.Context, inst *state.Installation) (*installed, error) {
	id, err := plugboard.ParseIdentifier(inst.UniqueIdentifier)
	if err != nil {
		return nil, err
	}
	pkg, err := m.db.FindPackage(ctx, inst.UniqueIdentifier)
	if err != nil {
		return nil, err
	}
	var man plugboard.Manifest
	if err := json.Unmarshal(pkg.Declaration, &man); err != nil {
		m.log.Error("stored declaration unreadable", "plugin", inst.UniqueIdentifier, "err", err)
		man = plugboard.Manifest{Author: id.Author, Name: id.Name, Version: id.Version}
	}
	return newInstalled(inst, id, &man), nil
}

// restoreAll starts every installed package again in the background, a few at a time.
func (m *Manager) restoreAll() {
	seen := map[string]bool{}
	var ids []plugboard.Identifier
	for _, in := range *m.index.Load() {
		if !seen[in.uid] {
			seen[in.uid] = true
			ids = append(ids, in.id)
			m.runs.set(in.uid, true, "")
		}
	}
	sem := make(chan struct{}, restoreWorkers)
	for _, id := range ids {
		m.goBackground(func(ctx context.Context) {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			m.restore(ctx, id)
		})
	}
}

// restore starts one package again: from its prepared working dir when it is
// intact, or else from the stored package file.
func (m *Manager) restore(ctx context.Context, id plugboard.Identifier) {
	unlock := m.locks.lock(id.PluginID())
	defer unlock()
	uid := id.String()
	if !m.usesPackage(uid) || m.running(uid) {
		m.runs.set(uid, false, "")
		return
	}
	err := m.startPrepared(ctx, id)
	if err != nil {
		m.log.Info("plugin directory not usable, preparing it again", "plugin", uid, "reason", err)
		err = m.startRuntime(ctx, id, m.anyInstalled(uid).manifest, func(string, string) {})
	}
	if err != nil {
		m.log.Error("restore plugin", "plugin", uid, "err", err)
		m.runs.set(uid, false, err.Error())
		return
	}
	m.runs.set(uid, false, "")
	m.releaseMemory() // a restore that extracted again read the whole package
}

// startPrepared starts a working dir left ready by an earlier install.
func (m *Manager) startPrepared(ctx context.Context, id plugboard.Identifier) error {
	dir := m.workDir(id)
	if _, err := os.Stat(filepath.Join(dir, readyMarker)); err != nil {
		return err
	}
	in := m.anyInstalled(id.String())
	if in == nil {
		return os.ErrNotExist
	}
	if in.manifest.Meta.Runner.Language == plugboard.RunnerPython {
		m.pythons.set(id.String(), runner.PythonOf(dir))
	}
	spec, err := m.spec(ctx, id, in.manifest, dir, runner.Command(in.manifest, dir))
	if err == nil {
		err = m.rt.Start(ctx, spec)
	}
	if err != nil {
		m.rt.Stop(id.String())
	}
	return err
}

// anyInstalled returns an installation of uid, for its declaration.
func (m *Manager) anyInstalled(uid string) *installed {
	for _, in := range *m.index.Load() {
		if in.uid == uid {
			return in
		}
	}
	return nil
}

// removeStaleDirs deletes working dirs (and interrupted extractions) that no
// installation uses, and half-written uploads: what a crash leaves behind.
func (m *Manager) removeStaleDirs() {
	keep := map[string]bool{}
	for _, in := range *m.index.Load() {
		keep[m.workDir(in.id)] = true
	}
	authors, _ := os.ReadDir(filepath.Join(m.cfg.DataDir, pluginsDir))
	for _, a := range authors {
		parent := filepath.Join(m.cfg.DataDir, pluginsDir, a.Name())
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			if p := filepath.Join(parent, e.Name()); !keep[p] {
				m.log.Info("removing unused plugin directory", "dir", p)
				os.RemoveAll(p)
			}
		}
	}
	temps, _ := filepath.Glob(filepath.Join(m.cfg.DataDir, packagesDir, "*", ".*.tmp-*"))
	for _, p := range temps {
		os.Remove(p) // an upload interrupted before its rename
	}
}
