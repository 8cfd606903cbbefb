package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/views"
)

// pluginListSize is how many installed plugins the list asks for.
const pluginListSize = 256

// plugins lists the installed plugins. A daemon that cannot be reached is
// shown in the page (and the banner), not as an error page.
func (s *Server) plugins(c echo.Context) error {
	ch := s.chrome(c, "Plugins", views.NavPlugins)
	var list []apispec.Installation
	var problem string
	page, err := s.daemon.List(ctx(c), 1, pluginListSize)
	if err != nil {
		problem = daemonProblem(err)
	} else {
		list = page.List
	}
	return s.render(c, http.StatusOK, views.PluginsPage(ch, list, problem))
}

// daemonProblem words a failed daemon call for the page.
func daemonProblem(err error) string {
	if errs.Code(err) == errs.Internal {
		return "The daemon did not answer: " + transportError(err) + "."
	}
	return errs.Message(err)
}
