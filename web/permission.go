package web

import (
	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

// loadPermissions reads, for a signed-in user, who may install and debug
// plugins, so that access checks and templates (Chrome.CanInstall) agree.
func (s *Server) loadPermissions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if CurrentUser(c) != nil {
			p, err := s.store.FindPermissions(c.Request().Context())
			if err != nil {
				return err
			}
			page.SetPermissions(c, p)
		}
		return next(c)
	}
}

func permissionsOf(c echo.Context) store.Permissions { return page.Permissions(c) }

func requireInstall(next echo.HandlerFunc) echo.HandlerFunc { return page.RequireInstall(next) }

func requireDebug(next echo.HandlerFunc) echo.HandlerFunc { return page.RequireDebug(next) }
