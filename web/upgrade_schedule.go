package web

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// auditAutoUpgradeSet is the audit action of a changed auto-upgrade
// setting (app/upgrade audits the upgrades themselves).
const auditAutoUpgradeSet = "plugin.auto_upgrade.set"

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
