package guard

import (
	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
)

// WithOrigin puts the client's address into the request's context, so
// every audit entry written for the request records where it came from.
func WithOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(store.WithOrigin(r.Context(), c.RealIP())))
		return next(c)
	}
}
