package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
)

// auditInvokeTimeoutSet records an admin changing a plugin's invoke timeout.
const auditInvokeTimeoutSet = "plugin.invoke_timeout.set"

// pluginSettings fetches the plugin's settings for the detail page; a
// failure is shown in their card, not as the page's error.
func (s *Server) pluginSettings(c echo.Context, pluginID string) views.PluginSettingsCard {
	st, err := s.daemon.PluginSettings(ctx(c), pluginID)
	if err != nil {
		return views.PluginSettingsCard{PluginID: pluginID, Problem: "Can't read the plugin's settings: " + failureMessage(err)}
	}
	return views.PluginSettingsCard{PluginID: pluginID, Settings: st}
}

// savePluginSettings sets the plugin's invoke timeout (admins); an empty
// field or 0 restores the daemon's default.
func (s *Server) savePluginSettings(c echo.Context) error {
	p, err := s.findInstalled(c, pluginID(c))
	if err != nil {
		return err
	}
	secs, err := parseTimeoutField(c.FormValue("invoke_timeout"))
	if err != nil {
		return err
	}
	if _, err := s.daemon.SetPluginSettings(ctx(c), apispec.PluginSettings{PluginID: p.PluginID, InvokeTimeoutSeconds: secs}); err != nil {
		return err
	}
	words := "the daemon's default"
	if secs > 0 {
		words = fmt.Sprintf("%d s", secs)
	}
	if err := s.store.Audit(ctx(c), CurrentUser(c).Username, auditInvokeTimeoutSet, p.PluginID, words); err != nil {
		return err
	}
	return s.flashRedirect(c, "Invoke timeout of "+p.PluginID+": "+words+".", "/plugins/"+p.PluginID)
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
