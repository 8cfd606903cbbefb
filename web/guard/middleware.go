package guard

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// ContentSecurityPolicy allows only the app's own scripts and styles: no
// inline script or style, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"

// SecurityHeaders sets the CSP and the other protective headers.
func SecurityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		return next(c)
	}
}

// csrfCookie holds the CSRF token the forms must echo.
const csrfCookie = page.CSRFCookie

// csrfMessage explains a refused request without a valid CSRF token.
const csrfMessage = "This request was refused because it did not carry this site's security token (CSRF). " +
	"Reload the page and try again."

// CSRF checks the CSRF token (hidden field _csrf or header X-CSRF-Token) on
// every state-changing request. echo's middleware lets a browser request
// marked Sec-Fetch-Site: same-origin through without a token; we want the
// token always checked, so the header is refused when cross-site and then
// hidden from echo, which falls back to the double-submit cookie token.
// The cookie is Secure when the browser came over https, so there are two
// checkers, one per kind of cookie.
func (g *Guard) CSRF() echo.MiddlewareFunc {
	checker := func(secure bool) echo.MiddlewareFunc {
		return middleware.CSRFWithConfig(middleware.CSRFConfig{
			TokenLookup:    "form:" + views.CSRFField + ",header:" + views.CSRFHeader,
			CookieName:     csrfCookie,
			CookiePath:     "/",
			CookieHTTPOnly: true,
			CookieSameSite: http.SameSiteLaxMode,
			CookieMaxAge:   int(store.SessionTTL.Seconds()),
			CookieSecure:   secure,
			ErrorHandler: func(error, echo.Context) error {
				return plugboard.Errorf(plugboard.EFORBIDDEN, csrfMessage)
			},
		})
	}
	plain, secure := checker(false), checker(true)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		guardedPlain, guardedSecure := plain(next), secure(next)
		return func(c echo.Context) error {
			r := c.Request()
			if IsMachine(c) || IsKeyPath(r.URL.Path) {
				return next(c) // authenticated by key or token, never by cookie
			}
			if r.Header.Get(echo.HeaderSecFetchSite) == "cross-site" && !safeMethod(r.Method) {
				return plugboard.Errorf(plugboard.EFORBIDDEN, csrfMessage)
			}
			r.Header.Del(echo.HeaderSecFetchSite)
			if g.kit.Secure(c) {
				return guardedSecure(c)
			}
			return guardedPlain(c)
		}
	}
}

// IsKeyPath reports whether a path is the tool gateway's (/mcp, /api/v1/…),
// which API keys authenticate as bearer tokens: no session cookie is read
// there and no CSRF token is asked for, since a browser sends neither a
// key by itself nor anything a key-less request could use.
func IsKeyPath(path string) bool {
	return path == "/mcp" || strings.HasPrefix(path, "/api/v1/")
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// LoadUser puts the signed-in user, if any, in the context. A cookie whose
// session has ended (logout, password change, user removed) is dropped.
func (g *Guard) LoadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if IsMachine(c) || IsKeyPath(c.Request().URL.Path) {
			return next(c) // authenticated by key or token: no session is read
		}
		token := g.kit.SessionToken(c)
		if token == "" {
			return next(c)
		}
		u, err := g.kit.Store.FindSessionUser(c.Request().Context(), token)
		if err == store.ErrNoSession {
			g.kit.ForgetSession(c)
			return next(c)
		}
		if err != nil {
			return err
		}
		page.SetUser(c, u)
		return next(c)
	}
}

// RequireUser sends visitors who are not signed in to the sign-in page (or
// to first-run setup when there are no users yet).
func (g *Guard) RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if page.CurrentUser(c) != nil {
			return next(c)
		}
		n, err := g.kit.Store.CountUsers(c.Request().Context())
		if err != nil {
			return err
		}
		if n == 0 {
			return page.Redirect(c, "/setup")
		}
		target := "/login"
		if c.Request().Method == http.MethodGet && c.Request().URL.Path != "/" {
			target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		return page.Redirect(c, target)
	}
}
