package web

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// permissionsKey is the context key of the request's store.Permissions.
const permissionsKey = "plugboard.permissions"

// loadPermissions reads, for a signed-in user, who may install and debug
// plugins, so that access checks and templates (Chrome.CanInstall) agree.
func (s *Server) loadPermissions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if CurrentUser(c) != nil {
			p, err := s.store.FindPermissions(c.Request().Context())
			if err != nil {
				return err
			}
			c.Set(permissionsKey, p)
		}
		return next(c)
	}
}

// permissionsOf returns the request's permissions (the defaults when none
// were loaded).
func permissionsOf(c echo.Context) store.Permissions {
	if p, ok := c.Get(permissionsKey).(store.Permissions); ok {
		return p
	}
	return store.DefaultPermissions
}

// requireInstall lets through users the install permission allows.
func requireInstall(next echo.HandlerFunc) echo.HandlerFunc {
	return requirePermission(next, "install plugins", func(p store.Permissions) store.Permission { return p.Install })
}

// requireDebug lets through users the debug permission allows.
func requireDebug(next echo.HandlerFunc) echo.HandlerFunc {
	return requirePermission(next, "debug plugins", func(p store.Permissions) store.Permission { return p.Debug })
}

// requirePermission answers 403, saying who may, to a user the chosen
// permission does not allow.
func requirePermission(next echo.HandlerFunc, what string, pick func(store.Permissions) store.Permission) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := CurrentUser(c)
		perm := pick(permissionsOf(c))
		switch {
		case u != nil && perm.Allows(u.Role):
			return next(c)
		case perm == store.PermNobody:
			return plugboard.Errorf(plugboard.EFORBIDDEN, "No one may %s here: an admin has turned it off under Settings → Permissions.", what)
		}
		return plugboard.Errorf(plugboard.EFORBIDDEN, "Only admins may %s here (Settings → Permissions).", what)
	}
}

// savePermissions stores who may install and debug plugins.
func (s *Server) savePermissions(c echo.Context) error {
	p := store.Permissions{Install: store.Permission(c.FormValue("install")), Debug: store.Permission(c.FormValue("debug"))}
	if err := s.store.SetPermissions(ctx(c), CurrentUser(c).Username, p); err != nil {
		return s.settingsInvalid(c, "permissions", err)
	}
	return s.flashRedirect(c, "Saved: "+p.Install.Label()+" may install plugins; "+p.Debug.Label()+" may debug them.", settingsPath)
}
