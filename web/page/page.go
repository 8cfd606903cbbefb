// Package page is what every handler package of the admin app shares: the
// signed-in user and their permissions, rendering a page inside the layout's
// chrome, flashes, redirects, forms and their errors, and audit entries for
// the request. The web package sets these up on every request (sessions,
// CSRF, middleware); the handler packages (web/account, web/playground …)
// only use them.
package page

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// CSRFCookie holds the CSRF token the forms must echo.
const CSRFCookie = "plugboard_csrf"

// CSRFToken returns the request's CSRF token for forms. On a page answering
// a refused request the middleware has not set it, so the cookie's is used.
func CSRFToken(c echo.Context) string {
	if t, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string); t != "" {
		return t
	}
	if ck, err := c.Cookie(CSRFCookie); err == nil {
		return ck.Value
	}
	return ""
}

// Render writes a component as the response, with the given status. The
// component is rendered into a buffer first so a rendering error still gets
// a proper error page.
func Render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// IsHTMX reports whether htmx sent the request.
func IsHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// Redirect sends the browser to a local path: a 303 for ordinary requests,
// HX-Redirect for htmx ones (which would otherwise swap the target page into
// the fragment).
func Redirect(c echo.Context, path string) error {
	if IsHTMX(c) {
		c.Response().Header().Set("HX-Redirect", path)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// LocalPath returns p if it is a path on this site, else "/" (so a crafted
// ?next= cannot send the user elsewhere).
func LocalPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || p == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, `\`) {
		return "/"
	}
	return p
}

// FormValues reads the named fields of a submitted form, trimming spaces
// except in passwords.
func FormValues(c echo.Context, names ...string) *views.Form {
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

// Ctx is the request's context.
func Ctx(c echo.Context) context.Context { return c.Request().Context() }

// StatusOf is the HTTP status of an error code: plugboard.ErrorStatus, but for
// invalid input, which the app answers with 422 (the form re-rendered with
// its message) where the daemon's API answers 400 as Dify's does.
func StatusOf(code string) int {
	if code == plugboard.EINVALID {
		return http.StatusUnprocessableEntity
	}
	return plugboard.ErrorStatus(code)
}

// FormError puts err into the form: on its field when it names one, else as
// the whole-form message. It returns the status to re-render with.
func FormError(f *views.Form, err error) int {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		f.Errors[fe.Field] = fe.Message
		return http.StatusUnprocessableEntity
	}
	f.Error = plugboard.ErrorMessage(err)
	return StatusOf(plugboard.ErrorCode(err))
}

// PluginListSize is how many installed plugins (or tools) a page asks the
// daemon for at once.
const PluginListSize = 256

// ListURL is a paged list's address for its page n with the same filter:
// the filter's non-empty values as the query, and page=n past the first.
func ListURL(path string, filter map[string]string, n int) string {
	q := url.Values{}
	for k, v := range filter {
		if v != "" {
			q.Set(k, v)
		}
	}
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
