package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/plugboard/plugboard/views"
)

// chrome returns what the layout needs for this request: the user, the CSRF
// token, the flashes queued for it and the daemon's reachability.
func (s *Server) chrome(c echo.Context, title, nav string) views.Chrome {
	ch := views.Chrome{
		Title:   title,
		Nav:     nav,
		User:    CurrentUser(c),
		CSRF:    csrfToken(c),
		Flashes: s.takeFlashes(c),
		// Who may install and debug, for Chrome.CanInstall (permission.go).
		Permissions: permissionsOf(c),
	}
	if ch.User != nil {
		ch.DaemonDown = s.health.Problem(c.Request().Context())
	}
	return ch
}

// csrfToken returns the request's CSRF token for forms. On a page answering
// a refused request the middleware has not set it, so the cookie's is used.
func csrfToken(c echo.Context) string {
	if t, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string); t != "" {
		return t
	}
	if ck, err := c.Cookie(csrfCookie); err == nil {
		return ck.Value
	}
	return ""
}

// render writes a component as the response, with the given status. The
// component is rendered into a buffer first so a rendering error still gets
// a proper error page.
func (s *Server) render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// isHTMX reports whether htmx sent the request.
func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// redirect sends the browser to a local path: a 303 for ordinary requests,
// HX-Redirect for htmx ones (which would otherwise swap the target page into
// the fragment).
func (s *Server) redirect(c echo.Context, path string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", path)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// flashRedirect queues a success message and redirects.
func (s *Server) flashRedirect(c echo.Context, message, path string) error {
	if err := s.flash(c, views.FlashSuccess, message); err != nil {
		return err
	}
	return s.redirect(c, path)
}

// localPath returns p if it is a path on this site, else "/" (so a crafted
// ?next= cannot send the user elsewhere).
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || p == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, `\`) {
		return "/"
	}
	return p
}

// formValues reads the named fields of a submitted form, trimming spaces
// except in passwords.
func formValues(c echo.Context, names ...string) *views.Form {
	f := views.NewForm()
	for _, n := range names {
		v := c.FormValue(n)
		if !strings.Contains(n, "password") && n != "current" && n != "new" && n != "confirm" {
			v = strings.TrimSpace(v)
		}
		f.Values[n] = v
	}
	return f
}

// ctx is the request's context.
func ctx(c echo.Context) context.Context { return c.Request().Context() }
