package web

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
func (s *Server) debuggingPage(c echo.Context) error {
	d := views.DebuggingData{}
	d.Host, d.Port = splitDebugAddr(s.cfg.DebugAddr)
	key, err := s.daemon.DebuggingKey(ctx(c))
	if err != nil {
		d.Err = page.DaemonProblem(err)
	} else {
		d.MaskedKey = maskKey(key)
	}
	if list, err := s.installed(c); err == nil {
		d.Connected = remotePlugins(list)
	}
	return s.render(c, http.StatusOK, views.DebuggingPage(s.chrome(c, "Debugging", views.NavDebugging), d))
}

// debugKey returns the workspace's debug key as plain text, for the page's
// copy button; it is not cached.
func (s *Server) debugKey(c echo.Context) error {
	key, err := s.daemon.DebuggingKey(ctx(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(http.StatusOK, key)
}

// regenerateDebugKey replaces the workspace's debug key: plugins connected
// now stay connected, new connections need the new key.
func (s *Server) regenerateDebugKey(c echo.Context) error {
	if _, err := s.daemon.RegenerateDebuggingKey(ctx(c)); err != nil {
		return err
	}
	s.audit(c, "debugging.key.regenerate", "debug key", "")
	return s.flashRedirect(c, "A new debug key was made; the old one no longer connects.", "/debugging")
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
