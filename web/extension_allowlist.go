package web

import (
	"context"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/netguard"
)

// allowlistSetting is the settings key of the admins' outbound allowlist.
const allowlistSetting = "outbound.allowlist"

// auditAllowlistUpdate is the audit action of an allowlist change.
const auditAllowlistUpdate = "outbound_allowlist.update"

// newOutbound returns the guard for requests made on a user's behalf,
// with the saved allowlist and the configured one.
func (s *Server) newOutbound(ctx context.Context) *netguard.Guard {
	g := netguard.New(s.cfg.OutboundAllow)
	saved, err := s.savedAllowlist(ctx)
	if err != nil {
		s.log.Error("read the outbound allowlist; only --outbound-allow applies", "err", err)
		return g
	}
	a, err := netguard.ParseAllowlist(saved)
	if err != nil {
		s.log.Error("the saved outbound allowlist is invalid; only --outbound-allow applies", "err", err)
		return g
	}
	g.SetAllowlist(netguard.Merge(s.cfg.OutboundAllow, a))
	return g
}

// savedAllowlist returns the admins' allowlist as saved ("" when none).
func (s *Server) savedAllowlist(ctx context.Context) (string, error) {
	v, _, err := s.store.Setting(ctx, allowlistSetting)
	return v, err
}

// saveAllowlist replaces the admins' outbound allowlist; the guard uses it
// from the next request on.
func (s *Server) saveAllowlist(c echo.Context) error {
	f := views.NewForm()
	f.Values["allowlist"] = c.FormValue("allowlist")
	a, err := netguard.ParseAllowlist(f.Values["allowlist"])
	if err != nil {
		status := formError(f, &store.FieldError{Field: "allowlist", Message: "Not saved: " + err.Error() + "."})
		return s.renderExtensions(c, status, views.NewForm(), f)
	}
	if err := s.store.SetSetting(ctx(c), allowlistSetting, a.String()); err != nil {
		return err
	}
	s.outbound.SetAllowlist(netguard.Merge(s.cfg.OutboundAllow, a))
	detail := "entries: " + strings.Join(a.Entries(), ", ")
	if len(a.Entries()) == 0 {
		detail = "emptied"
	}
	if err := s.store.Audit(ctx(c), CurrentUser(c).Username, auditAllowlistUpdate, "outbound allowlist", detail); err != nil {
		return err
	}
	return s.flashRedirect(c, "Saved the outbound allowlist ("+plural(len(a.Entries()), "entry", "entries")+").", "/extensions")
}

// plural is "1 entry" or "3 entries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
