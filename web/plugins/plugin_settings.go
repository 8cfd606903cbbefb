package plugins

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// auditInvokeTimeoutSet records an admin changing a plugin's invoke timeout.
const auditInvokeTimeoutSet = "plugin.invoke_timeout.set"

// pluginSettings fetches the plugin's settings for the detail page; a
// failure is shown in their card, not as the page's error.
func (h *Handlers) pluginSettings(c echo.Context, pluginID string) views.PluginSettingsCard {
	st, err := h.daemon.PluginSettings(page.Ctx(c), pluginID)
	if err != nil {
		return views.PluginSettingsCard{PluginID: pluginID, Problem: "Can't read the plugin's settings: " + page.DaemonProblem(err)}
	}
	return views.PluginSettingsCard{PluginID: pluginID, Settings: st}
}

// savePluginSettings sets the plugin's invoke timeout (admins); an empty
// field or 0 restores the daemon's default.
func (h *Handlers) savePluginSettings(c echo.Context) error {
	p, err := page.FindInstalled(c, h.daemon, page.PluginID(c))
	if err != nil {
		return err
	}
	secs, err := parseTimeoutField(c.FormValue("invoke_timeout"))
	if err != nil {
		return err
	}
	if _, err := h.daemon.SetPluginSettings(page.Ctx(c), apispec.PluginSettings{PluginID: p.PluginID, InvokeTimeoutSeconds: secs}); err != nil {
		return err
	}
	words := "the daemon's default"
	if secs > 0 {
		words = fmt.Sprintf("%d s", secs)
	}
	if err := h.store.Audit(page.Ctx(c), page.CurrentUser(c).Username, auditInvokeTimeoutSet, p.PluginID, words); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Invoke timeout of "+p.PluginID+": "+words+".", "/plugins/"+p.PluginID)
}

// parseTimeoutField reads whole seconds between 0 and a day.
func parseTimeoutField(raw string) (int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > apispec.MaxInvokeTimeoutSeconds {
		return 0, plugboard.Errorf(plugboard.EINVALID, "Invoke timeout: %q is not a whole number of seconds from 1 to %d (a day); leave it empty for the daemon's default.",
			raw, apispec.MaxInvokeTimeoutSeconds)
	}
	return n, nil
}
