package plugins

import (
	"bytes"
	"html"

	"github.com/labstack/echo/v4"
	"github.com/microcosm-cc/bluemonday"
	"github.com/plugboard/plugboard/web/page"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// readme returns a package's README, from the daemon, as sanitized HTML;
// "" when the package has none or the daemon cannot say.
func (h *Handlers) readme(c echo.Context, uid string) string {
	md, err := h.daemon.FetchReadme(page.Ctx(c), uid, "")
	if err != nil {
		h.Log.Warn("fetch README", "uid", uid, "err", err)
		return ""
	}
	if md == "" {
		return ""
	}
	return RenderMarkdown(md)
}

// markdown renders GitHub-flavoured markdown. Raw HTML in the source is
// escaped, never passed through (goldmark's default; html.WithUnsafe is
// deliberately not used).
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// sanitizer is the second line of defence: whatever the renderer emits is
// cut down to user-content HTML.
var sanitizer = bluemonday.UGCPolicy()

// RenderMarkdown renders a README to HTML safe to put in a page.
func RenderMarkdown(md string) string {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(md), &buf); err != nil {
		return "<pre>" + html.EscapeString(md) + "</pre>"
	}
	return sanitizer.Sanitize(buf.String())
}
