package manager

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
)

// Defaults of the sweep of packages that were uploaded but never installed.
const (
	DefaultPackageTTL    = 24 * time.Hour
	DefaultSweepInterval = time.Hour
)

// inTasks counts, per unique identifier, the install tasks not finished
// that will read its package: the sweep leaves those alone.
type inTasks struct {
	mu sync.Mutex
	m  map[string]int
}

func (t *inTasks) add(uids []string, delta int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, uid := range uids {
		if t.m[uid] += delta; t.m[uid] <= 0 {
			delete(t.m, uid)
		}
	}
}

func (t *inTasks) has(uid string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[uid] > 0
}

// sweepLoop removes unused packages every cfg.SweepInterval until Close.
func (m *Manager) sweepLoop(ctx context.Context) {
	tick := time.NewTicker(m.cfg.SweepInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := m.SweepPackages(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("sweep unused packages", "err", err)
		}
	}
}

// SweepPackages removes the stored packages (file and record) last uploaded
// more than cfg.PackageTTL ago that no installation of any tenant uses, no
// unfinished install task names, and no process runs; it returns how many
// it removed. The manager runs it every cfg.SweepInterval.
func (m *Manager) SweepPackages(ctx context.Context) (int, error) {
	uids, err := m.db.FindUnusedPackages(ctx, m.cfg.Now().Add(-m.cfg.PackageTTL))
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, uid := range uids {
		ok, err := m.sweepPackage(ctx, uid)
		if err != nil {
			return removed, err
		}
		if ok {
			removed++
		}
	}
	if removed > 0 {
		m.log.Info("removed packages uploaded but never installed", "packages", removed, "older_than", m.cfg.PackageTTL)
	}
	return removed, nil
}

// sweepPackage removes one package unless, under its plugin's lock, it turns
// out to be in use.
func (m *Manager) sweepPackage(ctx context.Context, uid string) (bool, error) {
	id, err := plugboard.ParseIdentifier(uid)
	if err != nil {
		return false, nil // not a package of ours to judge
	}
	unlock := m.locks.lock(id.PluginID())
	defer unlock()
	if m.usesPackage(uid) || m.tasks.has(uid) || m.running(uid) {
		return false, nil
	}
	deleted, err := m.db.DeletePackageIfUnused(ctx, uid)
	if err != nil || !deleted {
		return false, err
	}
	m.removeUnpacked(id)
	if err := os.Remove(m.packageFile(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return true, err
	}
	return true, nil
}
