package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// pluginLogLimit is how many of a plugin's latest log lines are shown.
const pluginLogLimit = 100

// pluginID is the plugin named by the route's :author/:name.
func pluginID(c echo.Context) string { return c.Param("author") + "/" + c.Param("name") }

// pluginDetail shows one installed plugin.
func (s *Server) pluginDetail(c echo.Context) error {
	p, err := s.findInstalled(c, pluginID(c))
	if err != nil {
		return err
	}
	d := views.PluginDetail{Plugin: *p, Readme: s.readme(c, p.PluginUniqueIdentifier)}
	d.Versions = s.versionPicker(c, *p)
	d.Signature = s.signatureOf(c, p.PluginUniqueIdentifier)
	if CurrentUser(c).Role.AtLeast(store.RoleAdmin) {
		card := s.pluginSettings(c, p.PluginID)
		d.Settings = &card
	}
	if m := p.Declaration; m != nil && m.Tool != nil && len(m.Tool.Credentials) > 0 {
		creds, err := s.credentials().FindCredentials(ctx(c), store.CredentialFilter{PluginID: p.PluginID, Provider: m.Tool.Identity.Name})
		if err != nil {
			return err
		}
		d.Credentials = len(creds)
	}
	d.Logs, err = s.daemon.PluginLogs(ctx(c), p.PluginID, pluginLogLimit)
	if err != nil {
		d.LogsErr = "Can't read the logs: " + failureMessage(err)
	}
	ch := s.chrome(c, views.PluginLabel(*p), views.NavPlugins)
	return s.render(c, http.StatusOK, views.PluginDetailPage(ch, d))
}

// pluginLogs answers the logs fragment, which refreshes itself.
func (s *Server) pluginLogs(c echo.Context) error {
	id := pluginID(c)
	logs, err := s.daemon.PluginLogs(ctx(c), id, pluginLogLimit)
	msg := ""
	if err != nil {
		msg = "Can't read the logs: " + failureMessage(err)
	}
	return s.render(c, http.StatusOK, views.PluginLogs(id, logs, msg))
}

// uninstallConfirm is the confirmation step of uninstall (the page reached
// without script; with it, a dialog on the detail page asks).
func (s *Server) uninstallConfirm(c echo.Context) error {
	p, err := s.findInstalled(c, pluginID(c))
	if err != nil {
		return err
	}
	ch := s.chrome(c, "Uninstall "+views.PluginLabel(*p), views.NavPlugins)
	return s.render(c, http.StatusOK, views.UninstallPage(ch, *p))
}

// uninstall removes an installed plugin and goes back to the list.
func (s *Server) uninstall(c echo.Context) error {
	deleteCreds := c.FormValue("delete_credentials") == "true"
	out, err := s.installs.Uninstall(ctx(c), CurrentUser(c), pluginID(c), deleteCreds)
	if err != nil {
		return err
	}
	p := out.Installation
	msg := views.PluginLabel(p) + " (" + p.PluginID + ") was uninstalled."
	if deleteCreds {
		msg += fmt.Sprintf(" %d stored credential(s) deleted.", out.CredentialsDeleted)
	} else {
		msg += " Its stored credentials are kept for a reinstall."
	}
	return s.flashRedirect(c, msg, "/")
}
