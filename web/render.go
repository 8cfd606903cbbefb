package web

import (
	"context"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// chrome returns what the layout needs for this request (page.Kit.Chrome).
func (s *Server) chrome(c echo.Context, title, nav string) views.Chrome {
	return s.kit.Chrome(c, title, nav)
}

func csrfToken(c echo.Context) string { return page.CSRFToken(c) }

func (s *Server) render(c echo.Context, status int, comp templ.Component) error {
	return page.Render(c, status, comp)
}

func isHTMX(c echo.Context) bool { return page.IsHTMX(c) }

func (s *Server) redirect(c echo.Context, path string) error { return page.Redirect(c, path) }

func (s *Server) flashRedirect(c echo.Context, message, path string) error {
	return s.kit.FlashRedirect(c, message, path)
}

func localPath(p string) string { return page.LocalPath(p) }

func formValues(c echo.Context, names ...string) *views.Form { return page.FormValues(c, names...) }

func ctx(c echo.Context) context.Context { return page.Ctx(c) }

// credentials is the credential store with the server's keyring.
func (s *Server) credentials() *store.Credentials { return s.store.Credentials(s.cfg.Keys) }

func actor(c echo.Context) string { return page.Actor(c) }
