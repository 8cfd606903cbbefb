package page

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// Context keys of what the web package's middleware loads for a request.
const (
	userKey        = "plugboard.user"
	permissionsKey = "plugboard.permissions"
)

// CurrentUser returns the signed-in user, or nil.
func CurrentUser(c echo.Context) *store.User {
	u, _ := c.Get(userKey).(*store.User)
	return u
}

// SetUser makes u the request's signed-in user (nil: nobody).
func SetUser(c echo.Context, u *store.User) { c.Set(userKey, u) }

// Actor is the signed-in user's name for audit entries and records, "" for
// nobody.
func Actor(c echo.Context) string {
	if u := CurrentUser(c); u != nil {
		return u.Username
	}
	return ""
}

// Permissions returns who may install and debug plugins, as loaded for the
// request (the defaults when none were loaded).
func Permissions(c echo.Context) store.Permissions {
	if p, ok := c.Get(permissionsKey).(store.Permissions); ok {
		return p
	}
	return store.DefaultPermissions
}

// SetPermissions records the request's permissions.
func SetPermissions(c echo.Context, p store.Permissions) { c.Set(permissionsKey, p) }

// RequireRole refuses, with 403, users below the role. Use it after a
// sign-in check (Chains.SignedIn); Chains.Admins is the ready chain.
func RequireRole(min store.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := CurrentUser(c)
			if u == nil || !u.Role.AtLeast(min) {
				return plugboard.Errorf(plugboard.EFORBIDDEN, "You need the %s role or higher to do this.", min)
			}
			return next(c)
		}
	}
}

// RequireInstall lets through users the install permission allows.
func RequireInstall(next echo.HandlerFunc) echo.HandlerFunc {
	return requirePermission(next, "install plugins", func(p store.Permissions) store.Permission { return p.Install })
}

// RequireDebug lets through users the debug permission allows.
func RequireDebug(next echo.HandlerFunc) echo.HandlerFunc {
	return requirePermission(next, "debug plugins", func(p store.Permissions) store.Permission { return p.Debug })
}

// requirePermission answers 403, saying who may, to a user the chosen
// permission does not allow.
func requirePermission(next echo.HandlerFunc, what string, pick func(store.Permissions) store.Permission) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := CurrentUser(c)
		perm := pick(Permissions(c))
		switch {
		case u != nil && perm.Allows(u.Role):
			return next(c)
		case perm == store.PermNobody:
			return plugboard.Errorf(plugboard.EFORBIDDEN, "No one may %s here: an admin has turned it off under Settings → Permissions.", what)
		}
		return plugboard.Errorf(plugboard.EFORBIDDEN, "Only admins may %s here (Settings → Permissions).", what)
	}
}

// Chains are the route middleware chains by who may use a route, built by
// the web package; a handler package's Routes registers each route with one.
type Chains struct {
	Public, SignedIn, Admins []echo.MiddlewareFunc
	// Installers may install, upgrade and uninstall plugins, by the install
	// permission; Debuggers may debug plugins remotely, by the debug one.
	Installers, Debuggers []echo.MiddlewareFunc
	// AdminsWithKeys are admins on routes that seal or open secrets: they
	// answer 503 when the keyring is not configured.
	AdminsWithKeys []echo.MiddlewareFunc
}
