package plugins

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// pluginLogLimit is how many of a plugin's latest log lines are shown.
const pluginLogLimit = 100

// pluginDetail shows one installed plugin.
func (h *Handlers) pluginDetail(c echo.Context) error {
	p, err := page.FindInstalled(c, h.daemon, page.PluginID(c))
	if err != nil {
		return err
	}
	d := views.PluginDetail{Plugin: *p}
	if p.RuntimeType != "mcp" { // an MCP server has no package, so no README
		d.Readme = h.readme(c, p.PluginUniqueIdentifier)
	}
	d.Versions = h.pages.VersionPicker(c, *p)
	d.Signature = h.signatureOf(c, p.PluginUniqueIdentifier)
	if page.CurrentUser(c).Role.AtLeast(store.RoleAdmin) {
		card := h.pluginSettings(c, p.PluginID)
		d.Settings = &card
	}
	if m := p.Declaration; m != nil && m.Tool != nil && len(m.Tool.Credentials) > 0 {
		creds, err := h.creds.FindCredentials(page.Ctx(c), store.CredentialFilter{PluginID: p.PluginID, Provider: m.Tool.Identity.Name})
		if err != nil {
			return err
		}
		d.Credentials = len(creds)
	}
	d.Logs, err = h.daemon.PluginLogs(page.Ctx(c), p.PluginID, pluginLogLimit)
	if err != nil {
		d.LogsErr = "Can't read the logs: " + page.DaemonProblem(err)
	}
	ch := h.Chrome(c, views.PluginLabel(*p), views.NavPlugins)
	return page.Render(c, http.StatusOK, views.PluginDetailPage(ch, d))
}

// pluginLogs answers the logs fragment, which refreshes itself.
func (h *Handlers) pluginLogs(c echo.Context) error {
	id := page.PluginID(c)
	logs, err := h.daemon.PluginLogs(page.Ctx(c), id, pluginLogLimit)
	msg := ""
	if err != nil {
		msg = "Can't read the logs: " + page.DaemonProblem(err)
	}
	return page.Render(c, http.StatusOK, views.PluginLogs(id, logs, msg))
}

// uninstallConfirm is the confirmation step of uninstall (the page reached
// without script; with it, a dialog on the detail page asks).
func (h *Handlers) uninstallConfirm(c echo.Context) error {
	p, err := page.FindInstalled(c, h.daemon, page.PluginID(c))
	if err != nil {
		return err
	}
	ch := h.Chrome(c, "Uninstall "+views.PluginLabel(*p), views.NavPlugins)
	return page.Render(c, http.StatusOK, views.UninstallPage(ch, *p))
}

// uninstall removes an installed plugin and goes back to the list.
func (h *Handlers) uninstall(c echo.Context) error {
	deleteCreds := c.FormValue("delete_credentials") == "true"
	out, err := h.installs.Uninstall(page.Ctx(c), page.CurrentUser(c), page.PluginID(c), deleteCreds)
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
	return h.FlashRedirect(c, msg, "/")
}
