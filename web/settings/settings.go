// Package settings serves the admins' settings page — trusted signing keys,
// the signature policy, who may install and debug plugins — and the audit
// log.
package settings

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

// Handlers serves the settings pages.
type Handlers struct {
	*page.Kit
	store *store.DB
}

// New returns the settings handlers.
func New(kit *page.Kit) *Handlers { return &Handlers{Kit: kit, store: kit.Store} }

// Routes registers the settings pages, for admins.
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.GET("/settings", h.settings, ch.Admins...)
	e.POST("/settings/keys", h.addTrustedKey, ch.Admins...)
	e.POST("/settings/keys/:id/delete", h.deleteTrustedKey, ch.Admins...)
	e.POST("/settings/signature-policy", h.saveSignaturePolicy, ch.Admins...)
	e.POST("/settings/permissions", h.savePermissions, ch.Admins...)
	e.GET("/audit", h.auditLog, ch.Admins...)
}
