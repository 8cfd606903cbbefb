// Package extensions serves the API-based extensions pages: the list, add,
// edit, delete, trying an extension point on an endpoint (app/extension
// calls it), and the admins' outbound allowlist (app/outbound keeps it).
package extensions

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/app/extension"
	"github.com/plugboard/plugboard/app/outbound"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web/page"
)

// Handlers serves the extensions pages.
type Handlers struct {
	*page.Kit
	store    *store.DB
	keys     *secret.Keyring
	outbound *outbound.Guard
	caller   *extension.Caller
}

// New returns the extensions handlers: extension API keys are sealed with
// keys, endpoints called by caller, the allowlist kept by g.
func New(kit *page.Kit, keys *secret.Keyring, g *outbound.Guard, caller *extension.Caller) *Handlers {
	return &Handlers{Kit: kit, store: kit.Store, keys: keys, outbound: g, caller: caller}
}

// Routes registers the extensions pages, for admins on a server with a
// keyring (ch.AdminsWithKeys).
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	ext := ch.AdminsWithKeys
	e.GET("/extensions", h.extensions, ext...)
	e.POST("/extensions", h.createExtension, ext...)
	e.POST("/extensions/allowlist", h.saveAllowlist, ext...)
	e.GET("/extensions/:id", h.extension, ext...)
	e.POST("/extensions/:id", h.updateExtension, ext...)
	e.POST("/extensions/:id/delete", h.deleteExtension, ext...)
	e.GET("/extensions/:id/try", h.tryForm, ext...)
	e.POST("/extensions/:id/try", h.tryExtension, ext...)
}
