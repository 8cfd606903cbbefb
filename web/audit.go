package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// audit records what the signed-in user did, for handlers whose change is
// not already audited by the store or a service (extensions, sign-in).
// detail must never contain a secret. A failure to record is logged, not
// returned: the change itself has happened.
func (s *Server) audit(c echo.Context, action, target, detail string) {
	s.auditOutcome(c, actor(c), action, target, detail, store.OutcomeSuccess)
}

// auditOutcome records an action by who (the signed-in user, or the name
// typed at a failed sign-in) that ended as outcome.
func (s *Server) auditOutcome(c echo.Context, who, action, target, detail, outcome string) {
	if err := s.store.AuditOutcome(ctx(c), truncate(who, 100), action, target, detail, outcome); err != nil {
		s.log.Error("audit log write failed", "action", action, "target", target, "err", err)
	}
}

// truncate shortens s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// withOrigin puts the client's address into the request's context, so
// every audit entry written for the request records where it came from.
func withOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(store.WithOrigin(r.Context(), c.RealIP())))
		return next(c)
	}
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
