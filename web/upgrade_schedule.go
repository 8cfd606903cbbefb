package web

import (
	"bytes"
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/marketplace"
)

// auditAutoUpgrade is the audit action of an auto-upgrade's outcome, and
// auditAutoUpgradeSet of a changed setting.
const (
	auditAutoUpgrade    = "plugin.auto_upgrade"
	auditAutoUpgradeSet = "plugin.auto_upgrade.set"
)

// RunAutoUpgrades checks, once a minute until ctx ends, which plugins are
// due to upgrade themselves (Config.Now is the clock), and upgrades them.
func (s *Server) RunAutoUpgrades(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.AutoUpgradeOnce(ctx)
		}
	}
}

// AutoUpgradeOnce upgrades every plugin due at Config.Now, each recorded as
// run (whatever the outcome, which goes to the log and the audit log).
func (s *Server) AutoUpgradeOnce(ctx context.Context) {
	list, err := s.store.EnabledAutoUpgrades(ctx)
	if err != nil {
		s.log.Error("auto-upgrade: read settings", "err", err)
		return
	}
	now := s.cfg.Now()
	for _, a := range list {
		if !a.Due(now) {
			continue
		}
		detail := s.autoUpgrade(ctx, a)
		if err := s.store.MarkAutoUpgradeRun(ctx, a.PluginID, now); err != nil {
			s.log.Error("auto-upgrade: record run", "plugin", a.PluginID, "err", err)
		}
		if detail != "" {
			s.log.Info("auto-upgrade", "plugin", a.PluginID, "result", detail)
			_ = s.store.Audit(ctx, "auto-upgrade", auditAutoUpgrade, a.PluginID, detail)
		}
	}
}

// autoUpgrade upgrades one plugin per its strategy and says what happened
// ("" when it is up to date).
func (s *Server) autoUpgrade(ctx context.Context, a store.AutoUpgrade) string {
	in, err := s.installation(ctx, a.PluginID)
	if err != nil {
		return "not checked: " + plugboard.ErrorMessage(err)
	}
	if in.Source != SourceMarketplace || s.market == nil {
		return "not checked: only plugins installed from the marketplace upgrade themselves"
	}
	vs, err := s.market.Versions(ctx, a.PluginID)
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
	if err := s.upgradeFromMarketplace(ctx, in, target); err != nil {
		return "upgrade from " + in.Version + " to " + target + " failed: " + plugboard.ErrorMessage(err)
	}
	return "upgrading from " + in.Version + " to " + target
}

// upgradeFromMarketplace downloads a version and starts upgrading the
// installation to it: the same download, upload and daemon Upgrade as the
// version picker's, without the preview.
func (s *Server) upgradeFromMarketplace(ctx context.Context, in *apispec.Installation, version string) error {
	pkg, err := s.market.Download(ctx, in.PluginID, version)
	if err != nil {
		return err
	}
	// The same signature check and policy as a package previewed by hand.
	src := packageSource{Kind: SourceMarketplace}
	vd, readable, err := s.screenPackage(ctx, pkg.Raw, src.Kind)
	if err != nil {
		return err
	}
	if !readable {
		return plugboard.Errorf(plugboard.EINVALID, "the marketplace's package of %s %s is not a plugin package", in.PluginID, version)
	}
	up, err := s.daemon.UploadPackage(ctx, pkg.Manifest.Name+"-"+version+".difypkg", bytes.NewReader(pkg.Raw))
	if err != nil {
		return err
	}
	if err := s.recordVerdict(ctx, up.UniqueIdentifier, vd, src); err != nil {
		return err
	}
	_, err = s.daemon.Upgrade(ctx, apispec.UpgradeRequest{
		OriginalPluginUniqueIdentifier: in.PluginUniqueIdentifier, NewPluginUniqueIdentifier: up.UniqueIdentifier,
		Source: SourceMarketplace, Meta: map[string]any{"plugin_unique_identifier": up.UniqueIdentifier},
	})
	return err
}

// installation finds an installed plugin by id outside a request.
func (s *Server) installation(ctx context.Context, pluginID string) (*apispec.Installation, error) {
	page, err := s.daemon.List(ctx, 1, pluginListSize)
	if err != nil {
		return nil, err
	}
	for i := range page.List {
		if page.List[i].PluginID == pluginID {
			return &page.List[i], nil
		}
	}
	return nil, plugboard.Errorf(plugboard.ENOTFOUND, "%s is not installed.", pluginID)
}

// saveAutoUpgrade stores a plugin's auto-upgrade strategy and time of day.
func (s *Server) saveAutoUpgrade(c echo.Context) error {
	p, err := s.findInstalled(c, pluginID(c))
	if err != nil {
		return err
	}
	minute, err := store.ParseTimeOfDay(c.FormValue("time"))
	if err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "Auto-upgrade time: %s.", err.Error())
	}
	a := store.AutoUpgrade{PluginID: p.PluginID, Strategy: c.FormValue("strategy"), Minute: minute}
	if err := s.store.SetAutoUpgrade(ctx(c), a); err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "Auto-upgrade: %s.", err.Error())
	}
	detail := a.Strategy + " at " + a.TimeOfDay() + " UTC"
	if err := s.store.Audit(ctx(c), CurrentUser(c).Username, auditAutoUpgradeSet, p.PluginID, detail); err != nil {
		return err
	}
	return s.flashRedirect(c, "Auto-upgrade of "+p.PluginID+": "+autoUpgradeWords(a)+".", "/plugins/"+p.PluginID)
}

// autoUpgradeWords says a setting in a sentence's words.
func autoUpgradeWords(a store.AutoUpgrade) string {
	switch a.Strategy {
	case store.AutoUpgradePatch:
		return "patch versions daily at " + a.TimeOfDay() + " UTC"
	case store.AutoUpgradeLatest:
		return "the latest version daily at " + a.TimeOfDay() + " UTC"
	}
	return "off"
}
