package guard

import (
	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/web/page"
)

// LoadPermissions reads, for a signed-in user, who may install and debug
// plugins, so that access checks and templates (Chrome.CanInstall) agree.
func (g *Guard) LoadPermissions(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if page.CurrentUser(c) != nil {
			p, err := g.kit.Store.FindPermissions(c.Request().Context())
			if err != nil {
				return err
			}
			page.SetPermissions(c, p)
		}
		return next(c)
	}
}
