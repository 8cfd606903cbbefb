package settings

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

// savePermissions stores who may install and debug plugins.
func (h *Handlers) savePermissions(c echo.Context) error {
	p := store.Permissions{Install: store.Permission(c.FormValue("install")), Debug: store.Permission(c.FormValue("debug"))}
	if err := h.store.SetPermissions(page.Ctx(c), page.CurrentUser(c).Username, p); err != nil {
		return h.settingsInvalid(c, "permissions", err)
	}
	return h.FlashRedirect(c, "Saved: "+p.Install.Label()+" may install plugins; "+p.Debug.Label()+" may debug them.", settingsPath)
}

// auditLog shows the audit log, newest first, paged and filtered by actor,
// action and time (UTC days, both ends included).
func (h *Handlers) auditLog(c echo.Context) error {
	pageNo, _ := strconv.Atoi(c.QueryParam("page"))
	data := views.AuditData{Since: c.QueryParam("since"), Until: c.QueryParam("until")}
	f := store.AuditFilter{Action: c.QueryParam("action"), Actor: c.QueryParam("actor"), Page: max(pageNo, 1), PerPage: store.DefaultAuditPerPage}
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
	if data.Entries, data.Total, err = h.store.FindAuditEntries(page.Ctx(c), f); err != nil {
		return err
	}
	if data.Actions, err = h.store.AuditActions(page.Ctx(c)); err != nil {
		return err
	}
	if data.Actors, err = h.store.AuditActors(page.Ctx(c)); err != nil {
		return err
	}
	return page.Render(c, http.StatusOK, views.AuditPage(h.Chrome(c, "Audit log", views.NavAudit), data))
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
