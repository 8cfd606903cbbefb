package page

import (
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// svgPolicy is the CSP of a served SVG: opened on its own it can run
// nothing and load nothing.
const svgPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

// iconCache lets browsers keep an icon: the URL names the package by its
// unique identifier, which includes its checksum, so the bytes never change.
const iconCache = "private, max-age=86400, immutable"

// ServeImage answers with an image, its type from its name (else the one
// given), refusing anything that is not an image.
func ServeImage(c echo.Context, name, ctype string, data []byte) error {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		ctype = t
	}
	if !strings.HasPrefix(ctype, "image/") {
		return plugboard.Errorf(plugboard.ENOTFOUND, "%s is not an image.", name)
	}
	hdr := c.Response().Header()
	if strings.HasPrefix(ctype, "image/svg+xml") {
		hdr.Set("Content-Security-Policy", svgPolicy)
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", iconCache)
	return c.Blob(http.StatusOK, ctype, data)
}

// PluginID is the plugin a route's :author/:name names ("author/name").
func PluginID(c echo.Context) string { return c.Param("author") + "/" + c.Param("name") }

// MaxUpload is the largest package accepted, the daemon's default limit.
func MaxUpload() int64 { return pkgfmt.DefaultLimits().MaxPackage }
