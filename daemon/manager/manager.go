// Package manager owns the daemon's installed plugins: it stores uploaded
// packages, runs install and upgrade tasks through their stages, keeps the
// state in SQLite, restores every installed plugin at start, and routes
// invocations to the right runtime.
//
// Behaviour callers can rely on:
//   - Invoke and the other read paths (List, Tools, Tool, Status, Logs) use an
//     in-memory index; Invoke touches neither the database nor the disk.
//   - Every operation on one plugin id (install, upgrade, uninstall, restore)
//     holds that plugin's lock, so two installs of the same plugin run one
//     after the other and never share a directory or a process.
//   - A plugin's process runs under its unique identifier; tenants that
//     install the same package share one process.
//   - A plugin that cannot be restored at Open keeps its installation and
//     reports state "failed" with the reason; installing it again retries.
//   - An upgrade starts the new version before it stops the old one, and the
//     old one gets its in-flight invocations finished first.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/callback"
	"github.com/plugboard/plugboard/daemon/metrics"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/runner"
	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/daemon/state"
)

// Config configures a Manager.
type Config struct {
	DataDir string
	Limits  pkgfmt.Limits
	Runtime runtime.Config
	Runner  runner.Options
	// HideDirs are dirs, besides DataDir, that plugins must not see (the
	// admin app's data dir, where the daemon's is inside it).
	HideDirs []string
	// StartTimeout overrides the runner's default start timeout when set.
	StartTimeout time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
	// PackageTTL is how long after its last upload a package no
	// installation uses is kept (DefaultPackageTTL); SweepInterval is how
	// often such packages are looked for (DefaultSweepInterval).
	PackageTTL    time.Duration
	SweepInterval time.Duration
	// Metrics records install stages and outcomes; nil records nothing.
	Metrics *metrics.Daemon
	// CallBacks configures how plugins' calls back are answered (the
	// platform's inner API, bounds); its DB and Manifest are the manager's.
	// Runtime.CallBacks, when set, is used instead.
	CallBacks callback.Config
}

// Data directory layout.
const (
	dbFile      = "daemon.db"
	packagesDir = "packages"
	pluginsDir  = "plugins"
	cacheDir    = "cache" // pip's and uv's caches, shared by every plugin
	readyMarker = ".plugboard-ready"
	// restoreWorkers bounds how many plugins are restored at once.
	restoreWorkers = 2
	// drainLimit bounds how long an upgrade waits for the old version's
	// in-flight invocations before stopping it.
	drainLimit = time.Minute
)

// Manager is the daemon's plugin manager.
type Manager struct {
	cfg Config
	db  *state.DB
	rt  *runtime.Manager
	log *slog.Logger

	ctx    context.Context // ends at Close; bounds background work
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed sync.Once

	mu    sync.Mutex            // serializes changes of index
	index atomic.Pointer[index] // read without locks on the hot path
	locks keyedMutex            // one per plugin id
	runs  runs                  // per unique identifier: references and restore state

	timeouts    timeouts      // invoke timeouts set per plugin id
	tasks       inTasks       // packages named by unfinished install tasks
	installLogs installLogs   // per plugin id: its latest environment build's output
	pythons     pythons       // per unique identifier: the interpreter of its venv
	release     chan struct{} // a pending request to return free memory (releaseLoop)
}

// Open opens (or creates) the state in cfg.DataDir and starts every installed
// plugin again in the background.
func Open(ctx context.Context, cfg Config) (*Manager, error) {
	cfg = withDefaults(cfg)
	if cfg.DataDir == "" {
		return nil, fmt.Errorf("manager: no data directory")
	}
	// Every path the manager keeps is absolute: plugins start in their own
	// working directory, where a relative path would point elsewhere.
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("manager: data directory: %w", err)
	}
	cfg.DataDir = dataDir
	if err := makeDataDir(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("manager: %w", err)
	}
	db, err := state.Open(ctx, filepath.Join(cfg.DataDir, dbFile))
	if err != nil {
		return nil, err
	}
	db.Now = cfg.Now
	m := newManager(cfg, db)
	if err := m.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	m.goBackground(m.releaseLoop)
	m.restoreAll()
	if err := m.restoreMCP(ctx); err != nil {
		m.Close()
		return nil, err
	}
	m.goBackground(m.sweepLoop)
	return m, nil
}

// makeDataDir creates the data directory for its owner only (0700, an
// existing one narrowed: it holds the database with the debug keys and
// every package), and its packages and plugins folders.
func makeDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	for _, d := range []string{packagesDir, pluginsDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func withDefaults(cfg Config) Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Runtime.Logger == nil {
		cfg.Runtime.Logger = cfg.Logger
	}
	if cfg.PackageTTL <= 0 {
		cfg.PackageTTL = DefaultPackageTTL
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.Limits == (pkgfmt.Limits{}) {
		cfg.Limits = pkgfmt.DefaultLimits()
	}
	if cfg.Runner.CacheDir == "" && cfg.DataDir != "" {
		cfg.Runner.CacheDir = filepath.Join(cfg.DataDir, cacheDir)
	}
	return cfg
}

func newManager(cfg Config, db *state.DB) *Manager {
	var m *Manager
	if cfg.Runtime.CallBacks == nil {
		cb := cfg.CallBacks
		cb.DB, cb.Metrics = db, cfg.Metrics
		cb.Manifest = func(c *runtime.CallBack) *plugboard.Manifest { return m.callBackManifest(c) }
		cfg.Runtime.CallBacks = callback.New(cb)
	}
	m = &Manager{cfg: cfg, db: db, rt: runtime.NewManager(cfg.Runtime), log: cfg.Logger}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.index.Store(&index{})
	m.runs.m = map[string]*run{}
	m.locks.m = map[string]*keyedEntry{}
	m.timeouts.m = map[string]time.Duration{}
	m.tasks.m = map[string]int{}
	m.release = make(chan struct{}, 1)
	return m
}

// Close stops every plugin and closes the database. Install tasks still
// running are cancelled and recorded as failed; the package sweep is
// stopped and waited for.
func (m *Manager) Close() error {
	var err error
	m.closed.Do(func() {
		m.cancel()
		m.wg.Wait()
		err = errors.Join(m.rt.Close(), m.db.Close())
	})
	return err
}

// Installed counts running installations (for health).
func (m *Manager) Installed() int {
	n := 0
	for _, in := range *m.index.Load() {
		if st, ok := m.rt.Status(in.uid); ok && st.State == apispec.StateRunning {
			n++
		}
	}
	return n
}

// goBackground runs fn in a goroutine that Close waits for.
func (m *Manager) goBackground(fn func(ctx context.Context)) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		fn(m.ctx)
	}()
}

// packageFile is where an uploaded package is stored.
func (m *Manager) packageFile(id plugboard.Identifier) string {
	return filepath.Join(m.cfg.DataDir, packagesDir, id.Author, id.Name+"-"+id.Version+"@"+id.Checksum+".difypkg")
}

// workDir is where a package is extracted and prepared.
func (m *Manager) workDir(id plugboard.Identifier) string {
	return m.packageDir(pluginsDir, id)
}

// packageDir is the folder of package id under the data dir's top folder:
// top/<author>/<name>-<version>@<checksum>.
func (m *Manager) packageDir(top string, id plugboard.Identifier) string {
	return filepath.Join(m.cfg.DataDir, top, id.Author, id.Name+"-"+id.Version+"@"+id.Checksum)
}

// keyedMutex is a mutex per key, created on demand and dropped when unused.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu    sync.Mutex
	users int
}

// lock locks key and returns its unlock.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.users++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.users--; e.users == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
