package web

import (
	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

func (s *Server) audit(c echo.Context, action, target, detail string) {
	s.kit.Audit(c, action, target, detail)
}

func (s *Server) auditOutcome(c echo.Context, who, action, target, detail, outcome string) {
	s.kit.AuditOutcome(c, who, action, target, detail, outcome)
}

func truncate(s string, n int) string { return page.Truncate(s, n) }

// withOrigin puts the client's address into the request's context, so
// every audit entry written for the request records where it came from.
func withOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(store.WithOrigin(r.Context(), c.RealIP())))
		return next(c)
	}
}
