package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/plugboard/plugboard/static"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/account"
	"github.com/plugboard/plugboard/web/agent"
	"github.com/plugboard/plugboard/web/credentials"
	"github.com/plugboard/plugboard/web/extensions"
	"github.com/plugboard/plugboard/web/gateway"
	"github.com/plugboard/plugboard/web/guard"
	"github.com/plugboard/plugboard/web/inner"
	"github.com/plugboard/plugboard/web/install"
	"github.com/plugboard/plugboard/web/models"
	"github.com/plugboard/plugboard/web/page"
	"github.com/plugboard/plugboard/web/playground"
	"github.com/plugboard/plugboard/web/plugins"
	"github.com/plugboard/plugboard/web/settings"
)

// middleware installs what runs on every request, outermost first, and
// the route chains by who may use a route.
func (s *Server) middleware() {
	g := guard.New(s.kit)
	s.echo.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	s.echo.Use(
		s.metrics.Observe,
		middleware.RequestID(),
		middleware.Recover(),
		guard.SecurityHeaders,
		guard.WithOrigin, // audit entries record the client address
		g.LoadUser,       // before csrf, so a refused request still shows who is signed in
		g.LoadPermissions,
		g.LimitBody(), // before csrf, the first to read the body
		g.CSRF(),
	)
	admins := []echo.MiddlewareFunc{g.RequireUser, page.RequireRole(store.RoleAdmin)}
	s.chains = page.Chains{
		SignedIn:       []echo.MiddlewareFunc{g.RequireUser},
		Admins:         admins,
		Installers:     []echo.MiddlewareFunc{g.RequireUser, page.RequireInstall},
		Debuggers:      []echo.MiddlewareFunc{g.RequireUser, page.RequireDebug},
		AdminsWithKeys: append(append([]echo.MiddlewareFunc{}, admins...), s.needKeys),
	}
}

// routes is the route table: every page and action, with who may use it,
// one function per handler area.
func (s *Server) routes() {
	e := s.echo
	e.StaticFS("/static", static.FS)
	e.GET("/healthz", s.healthz, s.chains.Public...)
	inner.New(s.cfg.InnerAPIKey, s.app.Callback, s.log).WithMCPRelay(s.app.MCPServers).Routes(e)
	account.New(s.kit).Routes(e, s.chains)
	settings.New(s.kit).Routes(e, s.chains)
	credentials.New(s.kit, s.daemon, s.credentials()).Routes(e, s.chains)
	models.New(s.kit, s.app.Models).Routes(e, s.chains)
	extensions.New(s.kit, s.cfg.Keys, s.app.Outbound, s.app.Extension).Routes(e, s.chains)
	playground.New(s.kit, playground.Config{Daemon: s.daemon, Runs: s.app.Invoke, Credentials: s.credentials(),
		PublicURL: s.cfg.PublicURL, DaemonAPIURL: s.cfg.DaemonAPIURL, DaemonKey: s.cfg.DaemonKey}).Routes(e, s.chains)
	agent.New(s.kit, agent.Config{Daemon: s.daemon, Agent: s.app.Agent, Models: s.app.Models, Credentials: s.credentials(),
		PublicURL: s.cfg.PublicURL}).Routes(e, s.chains)
	gateway.New(s.kit, gateway.Config{Gateway: s.app.Gateway, Credentials: s.credentials(), PublicURL: s.cfg.PublicURL}).Routes(e, s.chains)
	installPages := install.New(s.kit, install.Config{Daemon: s.daemon, Installs: s.app.Installs, Market: s.app.Market,
		GitHub: s.app.GitHub, Keys: s.cfg.Keys, Now: s.cfg.Now})
	installPages.Routes(e, s.chains)
	plugins.New(s.kit, plugins.Config{Daemon: s.daemon, Installs: s.app.Installs, MCPServers: s.app.MCPServers, Pages: installPages,
		Credentials: s.credentials(), DebugAddr: s.cfg.DebugAddr}).Routes(e, s.chains)
}

// healthz answers load balancers and the e2e tests: the app is serving.
func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}
