package plugins

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// DefaultDebugAddr is the remote debugging address shown when Config leaves
// DebugAddr empty and remote debugging is on (Dify's port).
const DefaultDebugAddr = "127.0.0.1:5003"

// debuggingPage shows how to connect a plugin for remote debugging: host,
// port, the masked workspace key (copied through debugKey, never written
// into the page) and the plugins connected now.
func (h *Handlers) debuggingPage(c echo.Context) error {
	d := views.DebuggingData{}
	d.Host, d.Port = splitDebugAddr(h.debugAddr)
	key, err := h.daemon.DebuggingKey(page.Ctx(c))
	if err != nil {
		d.Err = page.DaemonProblem(err)
	} else {
		d.MaskedKey = maskKey(key)
	}
	if list, err := page.Installed(c, h.daemon); err == nil {
		d.Connected = remotePlugins(list)
	}
	return page.Render(c, http.StatusOK, views.DebuggingPage(h.Chrome(c, "Debugging", views.NavDebugging), d))
}

// debugKey returns the workspace's debug key as plain text, for the page's
// copy button; it is not cached.
func (h *Handlers) debugKey(c echo.Context) error {
	key, err := h.daemon.DebuggingKey(page.Ctx(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, key)
}

// regenerateDebugKey replaces the workspace's debug key: plugins connected
// now stay connected, new connections need the new key.
func (h *Handlers) regenerateDebugKey(c echo.Context) error {
	if _, err := h.daemon.RegenerateDebuggingKey(page.Ctx(c)); err != nil {
		return err
	}
	h.Audit(c, "debugging.key.regenerate", "debug key", "")
	return h.FlashRedirect(c, "A new debug key was made; the old one no longer connects.", "/debugging")
}

// splitDebugAddr splits host:port for display; an unspecified host shows as
// the address plugins on this machine use.
func splitDebugAddr(addr string) (host, port string) {
	if addr == "" {
		addr = DefaultDebugAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return host, port
}

// maskKey shows only the last four characters of a key.
func maskKey(key string) string {
	if len(key) <= 4 {
		return strings.Repeat("•", len(key))
	}
	return strings.Repeat("•", 8) + key[len(key)-4:]
}

// remotePlugins picks the installations connected over the debugging port.
func remotePlugins(list []apispec.Installation) []apispec.Installation {
	var out []apispec.Installation
	for _, in := range list {
		if in.RuntimeType == "remote" {
			out = append(out, in)
		}
	}
	return out
}
