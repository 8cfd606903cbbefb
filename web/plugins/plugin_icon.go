package plugins

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/web/page"
)

// pluginIcon serves an image from a stored package's _assets (query uid and
// name), proxied from the daemon. Only images are served, SVG sandboxed.
func (h *Handlers) pluginIcon(c echo.Context) error {
	uid, name := c.QueryParam("uid"), c.QueryParam("name")
	if uid == "" || name == "" {
		return plugboard.Errorf(plugboard.EINVALID, "Both uid and name are required.")
	}
	data, ctype, err := h.daemon.Asset(page.Ctx(c), uid, name)
	if err != nil {
		return err
	}
	return page.ServeImage(c, name, ctype, data)
}
