package page

import (
	"crypto/rand"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/plugboard/plugboard/store"
)

// SessionToken is the server-side session's token the cookie carries, "".
func (k *Kit) SessionToken(c echo.Context) string {
	token, _ := k.Session(c).Values["token"].(string)
	return token
}

// SignIn starts a server-side session for the user and puts its token in
// the cookie; the CSRF token is replaced, so one planted before sign-in is
// worth nothing after it.
func (k *Kit) SignIn(c echo.Context, u *store.User) error {
	token, err := k.Store.CreateSession(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	sess := k.Session(c)
	sess.Values["token"] = token
	SetUser(c, u)
	k.RotateCSRF(c)
	return sess.Save(c.Request(), c.Response())
}

// SignOut ends the server-side session and empties the cookie.
func (k *Kit) SignOut(c echo.Context) error {
	if token := k.SessionToken(c); token != "" {
		if err := k.Store.DeleteSession(c.Request().Context(), token); err != nil {
			return err
		}
	}
	k.ForgetSession(c)
	return nil
}

// ForgetSession drops the token from the cookie, keeping flashes.
func (k *Kit) ForgetSession(c echo.Context) {
	sess := k.Session(c)
	delete(sess.Values, "token")
	SetUser(c, nil)
	sess.Save(c.Request(), c.Response())
}

// RotateCSRF gives the browser a new CSRF token, replacing the cookie the
// middleware set for this response, and makes it the one this response's
// forms carry.
func (k *Kit) RotateCSRF(c echo.Context) {
	token := rand.Text()
	h := c.Response().Header()
	kept := h.Values("Set-Cookie")[:0:0]
	for _, v := range h.Values("Set-Cookie") {
		if !strings.HasPrefix(v, CSRFCookie+"=") {
			kept = append(kept, v)
		}
	}
	h.Del("Set-Cookie")
	for _, v := range kept {
		h.Add("Set-Cookie", v)
	}
	c.SetCookie(&http.Cookie{
		Name: CSRFCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		MaxAge: int(store.SessionTTL.Seconds()), Secure: k.Secure(c),
	})
	c.Set(middleware.DefaultCSRFConfig.ContextKey, token)
}
