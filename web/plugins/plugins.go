// Package plugins serves the installed plugins: the list (with the
// examples to install in one click), a plugin's page (tools, README,
// process state, logs, signature, versions, settings), uninstall, plugin
// icons, the remote-debugging page, and adding an MCP server (mcp.go).
package plugins

import (
	"context"

	"github.com/labstack/echo/v4"

	appinstall "github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/app/mcpserver"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// installs is what the plugin pages ask of app/install.
type installs interface {
	Uninstall(ctx context.Context, u *store.User, pluginID string, deleteCredentials bool) (*appinstall.Uninstalled, error)
	LatestVersions(ctx context.Context, list []apispec.Installation) map[string]string
}

// installPages is what the plugin pages show of web/install's: the example
// cards and an installation's version picker.
type installPages interface {
	Examples(list []apispec.Installation) []views.Example
	VersionPicker(c echo.Context, in apispec.Installation) *views.VersionPicker
}

// mcpServers adds MCP servers (app/mcpserver).
type mcpServers interface {
	Add(ctx context.Context, u *store.User, f mcpserver.Form) (*apispec.Installation, error)
	AddStdio(ctx context.Context, u *store.User, f mcpserver.StdioForm) (*apispec.Installation, error)
}

// Config is what the plugin pages need beyond the shared kit.
type Config struct {
	Daemon     *client.Client
	Installs   installs
	MCPServers mcpServers
	Pages      installPages
	// Credentials lists a provider's credentials for the plugin's page.
	Credentials *store.Credentials
	// DebugAddr is the daemon's remote debugging address as plugins reach
	// it ("" shows DefaultDebugAddr).
	DebugAddr string
}

// Handlers serves the plugin pages.
type Handlers struct {
	*page.Kit
	store     *store.DB
	daemon    *client.Client
	installs  installs
	mcp       mcpServers
	pages     installPages
	creds     *store.Credentials
	debugAddr string
}

// New returns the plugin handlers.
func New(kit *page.Kit, cfg Config) *Handlers {
	return &Handlers{Kit: kit, store: kit.Store, daemon: cfg.Daemon, installs: cfg.Installs, mcp: cfg.MCPServers, pages: cfg.Pages,
		creds: cfg.Credentials, debugAddr: cfg.DebugAddr}
}

// Routes registers the plugin pages: seen by every signed-in user, changed
// by installers and admins, debugging by those the debug permission allows.
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.GET("/", h.plugins, ch.SignedIn...)
	e.GET("/plugin-icon", h.pluginIcon, ch.SignedIn...)
	e.GET("/plugins/mcp/new", h.mcpPage, ch.Admins...)
	e.POST("/plugins/mcp", h.addMCP, ch.Admins...)
	e.GET("/plugins/:author/:name", h.pluginDetail, ch.SignedIn...)
	e.GET("/plugins/:author/:name/logs", h.pluginLogs, ch.SignedIn...)
	e.GET("/plugins/:author/:name/uninstall", h.uninstallConfirm, ch.Installers...)
	e.POST("/plugins/:author/:name/uninstall", h.uninstall, ch.Installers...)
	e.POST("/plugins/:author/:name/settings", h.savePluginSettings, ch.Admins...)
	e.GET("/debugging", h.debuggingPage, ch.Debuggers...)
	e.GET("/debugging/key", h.debugKey, ch.Debuggers...)
	e.POST("/debugging/key/regenerate", h.regenerateDebugKey, ch.Debuggers...)
}
