// Package plugins serves the installed plugins: the list, a plugin's page
// (tools, README, process state, logs, settings), uninstall, and the remote
// debugging page.
package plugins

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/web/page"
)

// Handlers serves the plugin pages.
type Handlers struct {
	*page.Kit
	daemon *client.Client
	// debugAddr is the daemon's remote debugging address as plugins reach
	// it ("" shows DefaultDebugAddr).
	debugAddr string
}

// New returns the plugin handlers.
func New(kit *page.Kit, daemon *client.Client, debugAddr string) *Handlers {
	return &Handlers{Kit: kit, daemon: daemon, debugAddr: debugAddr}
}

// Routes registers the plugin pages: seen by every signed-in user, changed
// by installers and admins, debugging by those the debug permission allows.
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.GET("/debugging", h.debuggingPage, ch.Debuggers...)
	e.GET("/debugging/key", h.debugKey, ch.Debuggers...)
	e.POST("/debugging/key/regenerate", h.regenerateDebugKey, ch.Debuggers...)
}
