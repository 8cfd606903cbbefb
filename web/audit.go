package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// audit records what the signed-in user did, for handlers whose change is
// not already audited by the store (plugin install/uninstall, extensions).
// detail must never contain a secret. A failure to record is logged, not
// returned: the change itself has happened.
func (s *Server) audit(c echo.Context, action, target, detail string) {
	if err := s.store.Audit(ctx(c), actor(c), action, target, detail); err != nil {
		s.log.Error("audit log write failed", "action", action, "target", target, "err", err)
	}
}

// deleteCredentialsForPlugin removes every stored credential of a plugin
// (audited), for an uninstall where the admin ticked "also delete its
// credentials". Without it, credentials are kept for a reinstall.
func (s *Server) deleteCredentialsForPlugin(c echo.Context, pluginID string) (int, error) {
	return s.store.DeleteCredentialsForPlugin(ctx(c), actor(c), pluginID)
}

// auditLog shows the audit log, newest first, paged and filtered by action.
func (s *Server) auditLog(c echo.Context) error {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	f := store.AuditFilter{Action: c.QueryParam("action"), Page: max(page, 1), PerPage: store.DefaultAuditPerPage}
	entries, total, err := s.store.FindAuditEntries(ctx(c), f)
	if err != nil {
		return err
	}
	actions, err := s.store.AuditActions(ctx(c))
	if err != nil {
		return err
	}
	data := views.AuditData{Entries: entries, Total: total, Filter: f, Actions: actions}
	return s.render(c, http.StatusOK, views.AuditPage(s.chrome(c, "Audit log", views.NavAudit), data))
}
