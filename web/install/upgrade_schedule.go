package install

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

// auditAutoUpgradeSet is the audit action of a changed auto-upgrade
// setting (app/upgrade audits the upgrades themselves).
const auditAutoUpgradeSet = "plugin.auto_upgrade.set"

// saveAutoUpgrade stores a plugin's auto-upgrade strategy and time of day.
func (h *Handlers) saveAutoUpgrade(c echo.Context) error {
	p, err := page.FindInstalled(c, h.daemon, page.PluginID(c))
	if err != nil {
		return err
	}
	minute, err := store.ParseTimeOfDay(c.FormValue("time"))
	if err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "Auto-upgrade time: %s.", err.Error())
	}
	a := store.AutoUpgrade{PluginID: p.PluginID, Strategy: c.FormValue("strategy"), Minute: minute}
	if err := h.store.SetAutoUpgrade(page.Ctx(c), a); err != nil {
		return plugboard.Errorf(plugboard.EINVALID, "Auto-upgrade: %s.", err.Error())
	}
	detail := a.Strategy + " at " + a.TimeOfDay() + " UTC"
	if err := h.store.Audit(page.Ctx(c), page.CurrentUser(c).Username, auditAutoUpgradeSet, p.PluginID, detail); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Auto-upgrade of "+p.PluginID+": "+autoUpgradeWords(a)+".", "/plugins/"+p.PluginID)
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
