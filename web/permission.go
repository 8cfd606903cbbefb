package web

import (
	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/web/page"
)

// loadPermissions reads, for a signed-in user, who may install and debug
// plugins, so that access checks and templates (Chrome.CanInstall) agree.
func (s *Server) loadPermissions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if page.CurrentUser(c) != nil {
			p, err := s.store.FindPermissions(c.Request().Context())
			if err != nil {
				return err
			}
			page.SetPermissions(c, p)
		}
		return next(c)
	}
}
