package extensions

import (
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

func (h *Handlers) saveAllowlist(c echo.Context) error {
	f := views.NewForm()
	f.Values["allowlist"] = c.FormValue("allowlist")
	a, err := h.outbound.Save(page.Ctx(c), page.Actor(c), f.Values["allowlist"])
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return h.renderExtensions(c, page.FormError(f, err), views.NewForm(), f)
	}
	if err != nil {
		return err
	}
	return h.FlashRedirect(c, "Saved the outbound allowlist ("+plural(len(a.Entries()), "entry", "entries")+").", "/extensions")
}

// plural is "1 entry" or "3 entries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
