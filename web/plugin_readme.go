package web

import (
	"bytes"
	"html"
	"path/filepath"

	"github.com/labstack/echo/v4"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// readmeKey is the settings key under which a package's README is kept: the
// daemon's API has no route for it, so the app keeps the README of every
// package it uploads.
func readmeKey(uid string) string { return "plugin.readme:" + uid }

// rememberReadme keeps a package's README markdown for its detail page.
// Failing to keep it only costs the README, so it is logged, not returned.
func (s *Server) rememberReadme(c echo.Context, uid, markdown string) {
	if markdown == "" {
		return
	}
	if err := s.store.SetSetting(ctx(c), readmeKey(uid), markdown); err != nil {
		s.log.Warn("keep README", "uid", uid, "err", err)
	}
}

// readme returns a package's README as sanitized HTML: the one kept at
// upload, else the one of an example package with the same identifier;
// "" when neither is known.
func (s *Server) readme(c echo.Context, uid string) string {
	md, ok, err := s.store.Setting(ctx(c), readmeKey(uid))
	if err != nil || !ok {
		md = s.exampleReadme(uid)
	}
	if md == "" {
		return ""
	}
	return RenderMarkdown(md)
}

// exampleReadme returns the README of the example package whose identifier
// is uid, or "".
func (s *Server) exampleReadme(uid string) string {
	if s.cfg.Examples == "" {
		return ""
	}
	paths, _ := filepath.Glob(filepath.Join(s.cfg.Examples, "*.difypkg"))
	for _, p := range paths {
		pkg, err := s.examplePackage(filepath.Base(p))
		if err == nil && pkg.ID.String() == uid {
			return pkg.Readme
		}
	}
	return ""
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
