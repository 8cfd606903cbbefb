// Package upgrade is the auto-upgrade scheduler: once a minute it upgrades
// every plugin whose saved auto-upgrade setting is due to the version its
// strategy picks from the marketplace, through app/install's signature
// check and policy, and records each run and its outcome.
package upgrade

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/app/marketplace"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
)

// AuditAction is the audit action of an auto-upgrade's outcome; its actor
// is "auto-upgrade".
const AuditAction = "plugin.auto_upgrade"

// Installs is what the scheduler needs of app/install.
type Installs interface {
	// Installation finds an installed plugin by id.
	Installation(ctx context.Context, pluginID string) (*apispec.Installation, error)
	// Marketplace is the marketplace client, nil when none is configured.
	Marketplace() *marketplace.Client
	// UpgradeFromMarketplace starts upgrading in to version.
	UpgradeFromMarketplace(ctx context.Context, in *apispec.Installation, version string) error
}

// Config is what the scheduler needs.
type Config struct {
	Store    *store.DB
	Installs Installs
	Logger   *slog.Logger
	// Now returns the current time, which settings are due by; tests
	// replace it.
	Now func() time.Time
	// Every is how often the scheduler looks (0: a minute).
	Every time.Duration
}

// Scheduler runs the auto-upgrades: Start it, Close it to stop.
type Scheduler struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New returns a scheduler that is not running yet.
func New(cfg Config) *Scheduler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Every == 0 {
		cfg.Every = time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{cfg: cfg, ctx: ctx, cancel: cancel}
}

// Start checks, every Config.Every until Close, which plugins are due, and
// upgrades them. Starting again does nothing.
func (s *Scheduler) Start() {
	s.once.Do(func() {
		s.wg.Add(1)
		go s.run()
	})
}

func (s *Scheduler) run() {
	defer s.wg.Done()
	tick := time.NewTicker(s.cfg.Every)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
			s.Once(s.ctx)
		}
	}
}

// Close stops the scheduler, cancelling an upgrade check under way, and
// waits for it.
func (s *Scheduler) Close() {
	s.cancel()
	s.wg.Wait()
}

// Once upgrades every plugin due at Config.Now, each recorded as run
// (whatever the outcome, which goes to the log and the audit log).
func (s *Scheduler) Once(ctx context.Context) {
	list, err := s.cfg.Store.EnabledAutoUpgrades(ctx)
	if err != nil {
		s.cfg.Logger.Error("auto-upgrade: read settings", "err", err)
		return
	}
	now := s.cfg.Now()
	for _, a := range list {
		if !a.Due(now) {
			continue
		}
		detail := s.upgrade(ctx, a)
		if err := s.cfg.Store.MarkAutoUpgradeRun(ctx, a.PluginID, now); err != nil {
			s.cfg.Logger.Error("auto-upgrade: record run", "plugin", a.PluginID, "err", err)
		}
		if detail != "" {
			s.cfg.Logger.Info("auto-upgrade", "plugin", a.PluginID, "result", detail)
			_ = s.cfg.Store.Audit(ctx, "auto-upgrade", AuditAction, a.PluginID, detail)
		}
	}
}

// upgrade upgrades one plugin per its strategy and says what happened (""
// when it is up to date).
func (s *Scheduler) upgrade(ctx context.Context, a store.AutoUpgrade) string {
	in, err := s.cfg.Installs.Installation(ctx, a.PluginID)
	if err != nil {
		return "not checked: " + plugboard.ErrorMessage(err)
	}
	m := s.cfg.Installs.Marketplace()
	if in.Source != install.SourceMarketplace || m == nil {
		return "not checked: only plugins installed from the marketplace upgrade themselves"
	}
	vs, err := m.Versions(ctx, a.PluginID)
	if err != nil {
		return "not checked: " + plugboard.ErrorMessage(err)
	}
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.Version
	}
	target := marketplace.PickVersion(a.Strategy, in.Version, names)
	if target == "" {
		return ""
	}
	if err := s.cfg.Installs.UpgradeFromMarketplace(ctx, in, target); err != nil {
		return "upgrade from " + in.Version + " to " + target + " failed: " + plugboard.ErrorMessage(err)
	}
	return "upgrading from " + in.Version + " to " + target
}
