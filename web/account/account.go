// Package account serves first-run setup, sign-in and sign-out, one's own
// password, and the users page where admins add users and set their roles.
package account

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

// Handlers serves the account pages.
type Handlers struct {
	*page.Kit
	store *store.DB
}

// New returns the account handlers.
func New(kit *page.Kit) *Handlers { return &Handlers{Kit: kit, store: kit.Store} }

// Routes registers the account pages: setup and sign-in are public, the
// password page needs a user, the users page an admin.
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.GET("/setup", h.setupForm, ch.Public...)
	e.POST("/setup", h.setup, ch.Public...)
	e.GET("/login", h.loginForm, ch.Public...)
	e.POST("/login", h.login, ch.Public...)
	e.POST("/logout", h.logout, ch.SignedIn...)
	e.GET("/account/password", h.passwordForm, ch.SignedIn...)
	e.POST("/account/password", h.changePassword, ch.SignedIn...)
	e.GET("/users", h.users, ch.Admins...)
	e.POST("/users", h.createUser, ch.Admins...)
	e.POST("/users/:id/role", h.updateUserRole, ch.Admins...)
	e.POST("/users/:id/delete", h.deleteUser, ch.Admins...)
}
