package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/plugboard/plugboard/static"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/account"
	"github.com/plugboard/plugboard/web/credentials"
	"github.com/plugboard/plugboard/web/extensions"
	"github.com/plugboard/plugboard/web/install"
	"github.com/plugboard/plugboard/web/page"
	"github.com/plugboard/plugboard/web/playground"
	"github.com/plugboard/plugboard/web/plugins"
	"github.com/plugboard/plugboard/web/settings"
)

// middleware installs what runs on every request, outermost first.
func (s *Server) middleware() {
	s.echo.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	s.echo.Use(
		s.metrics.observe,
		middleware.RequestID(),
		middleware.Recover(),
		securityHeaders,
		withOrigin, // audit entries record the client address
		s.loadUser, // before csrf, so a refused request still shows who is signed in
		s.loadPermissions,
		s.limitBody(), // before csrf, the first to read the body
		s.csrf(),
	)
	s.public = nil
	s.signedIn = []echo.MiddlewareFunc{s.requireUser}
	s.admins = []echo.MiddlewareFunc{s.requireUser, page.RequireRole(store.RoleAdmin)}
	s.installers = []echo.MiddlewareFunc{s.requireUser, page.RequireInstall}
	s.debuggers = []echo.MiddlewareFunc{s.requireUser, page.RequireDebug}
	s.chains = page.Chains{
		Public: s.public, SignedIn: s.signedIn, Admins: s.admins,
		Installers: s.installers, Debuggers: s.debuggers,
		AdminsWithKeys: append(append([]echo.MiddlewareFunc{}, s.admins...), s.needKeys),
	}
}

// routes is the route table: every page and action, with who may use it,
// one function per handler area.
func (s *Server) routes() {
	e := s.echo
	e.StaticFS("/static", static.FS)
	e.GET("/healthz", s.healthz, s.public...)
	account.New(s.kit).Routes(e, s.chains)
	settings.New(s.kit).Routes(e, s.chains)
	credentials.New(s.kit, s.daemon, s.credentials()).Routes(e, s.chains)
	extensions.New(s.kit, s.cfg.Keys, s.allowlist, s.extCaller).Routes(e, s.chains)
	playground.New(s.kit, playground.Config{Daemon: s.daemon, Runs: s.invoker, Credentials: s.credentials(),
		PublicURL: s.cfg.PublicURL, DaemonAPIURL: s.cfg.DaemonAPIURL, DaemonKey: s.cfg.DaemonKey}).Routes(e, s.chains)
	installPages := install.New(s.kit, install.Config{Daemon: s.daemon, Installs: s.installs, Market: s.market,
		GitHub: s.github, Keys: s.cfg.Keys, Now: s.cfg.Now})
	installPages.Routes(e, s.chains)
	plugins.New(s.kit, plugins.Config{Daemon: s.daemon, Installs: s.installs, Pages: installPages,
		Credentials: s.credentials(), DebugAddr: s.cfg.DebugAddr}).Routes(e, s.chains)
}

// healthz answers load balancers and the e2e tests: the app is serving.
func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}
