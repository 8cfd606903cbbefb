package web

import (
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
)

// svgPolicy is the CSP of a served SVG: opened on its own it can run
// nothing and load nothing.
const svgPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

// iconCache lets browsers keep an icon: the URL names the package by its
// unique identifier, which includes its checksum, so the bytes never change.
const iconCache = "private, max-age=86400, immutable"

// pluginIcon serves an image from a stored package's _assets (query uid and
// name), proxied from the daemon. Only images are served, SVG sandboxed.
func (s *Server) pluginIcon(c echo.Context) error {
	uid, name := c.QueryParam("uid"), c.QueryParam("name")
	if uid == "" || name == "" {
		return plugboard.Errorf(plugboard.EINVALID, "Both uid and name are required.")
	}
	data, ctype, err := s.daemon.Asset(ctx(c), uid, name)
	if err != nil {
		return err
	}
	return serveImage(c, name, ctype, data)
}

// serveImage answers with an image, its type from its name (else the one
// given), refusing anything that is not an image.
func serveImage(c echo.Context, name, ctype string, data []byte) error {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		ctype = t
	}
	if !strings.HasPrefix(ctype, "image/") {
		return plugboard.Errorf(plugboard.ENOTFOUND, "%s is not an image.", name)
	}
	h := c.Response().Header()
	if strings.HasPrefix(ctype, "image/svg+xml") {
		h.Set("Content-Security-Policy", svgPolicy)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", iconCache)
	return c.Blob(http.StatusOK, ctype, data)
}
