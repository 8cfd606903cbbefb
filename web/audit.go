package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
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

// deleteCredentialsForPlugin removes every stored credential of a plugin
// (audited), for an uninstall where the admin ticked "also delete its
// credentials". Without it, credentials are kept for a reinstall.
func (s *Server) deleteCredentialsForPlugin(c echo.Context, pluginID string) (int, error) {
	return s.store.DeleteCredentialsForPlugin(ctx(c), actor(c), pluginID)
}

// auditLog shows the audit log, newest first, paged and filtered by actor,
// action and time (UTC days, both ends included).
func (s *Server) auditLog(c echo.Context) error {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	data := views.AuditData{Since: c.QueryParam("since"), Until: c.QueryParam("until")}
	f := store.AuditFilter{Action: c.QueryParam("action"), Actor: c.QueryParam("actor"), Page: max(page, 1), PerPage: store.DefaultAuditPerPage}
	var err error
	if f.Since, err = auditDay(data.Since, "From"); err == nil {
		f.Until, err = auditDay(data.Until, "To")
	}
	if err != nil {
		data.Error = err.Error()
		f.Since, f.Until = time.Time{}, time.Time{}
	} else if !f.Until.IsZero() {
		f.Until = f.Until.AddDate(0, 0, 1) // through the end of that day
	}
	data.Filter = f
	if data.Entries, data.Total, err = s.store.FindAuditEntries(ctx(c), f); err != nil {
		return err
	}
	if data.Actions, err = s.store.AuditActions(ctx(c)); err != nil {
		return err
	}
	if data.Actors, err = s.store.AuditActors(ctx(c)); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.AuditPage(s.chrome(c, "Audit log", views.NavAudit), data))
}

// auditDay parses a day of the time filter ("" is no bound).
func auditDay(v, label string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s must be a day like 2026-12-03, not %q.", label, v)
	}
	return t, nil
}
