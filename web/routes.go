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
	s.admins = []echo.MiddlewareFunc{s.requireUser, RequireRole(store.RoleAdmin)}
	s.installers = []echo.MiddlewareFunc{s.requireUser, requireInstall}
	s.debuggers = []echo.MiddlewareFunc{s.requireUser, requireDebug}
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
	s.pluginRoutes(e)
	plugins.New(s.kit, s.daemon, s.cfg.DebugAddr).Routes(e, s.chains)
	s.installRoutes(e)
}

// pluginRoutes: the installed plugins (plugin*.go) and install tasks
// (task.go); web/plugins has the rest.
func (s *Server) pluginRoutes(e *echo.Echo) {
	e.GET("/", s.plugins, s.signedIn...)
	e.GET("/plugin-icon", s.pluginIcon, s.signedIn...)
	e.GET("/plugins/:author/:name", s.pluginDetail, s.signedIn...)
	e.GET("/plugins/:author/:name/logs", s.pluginLogs, s.signedIn...)
	e.GET("/plugins/:author/:name/uninstall", s.uninstallConfirm, s.installers...)
	e.POST("/plugins/:author/:name/uninstall", s.uninstall, s.installers...)
	e.POST("/plugins/:author/:name/settings", s.savePluginSettings, s.admins...)
	e.GET("/tasks", s.tasks, s.signedIn...)
	e.GET("/tasks/indicator", s.taskIndicator, s.signedIn...)
	e.GET("/tasks/:id", s.task, s.signedIn...)
	e.POST("/tasks/:id/delete", s.deleteTask, s.admins...)
	e.POST("/tasks/delete", s.deleteAllTasks, s.admins...)
}

// installRoutes: upload and preview (install*.go), the examples, the
// marketplace tab and auto-upgrade (marketplace.go, upgrade*.go), GitHub
// releases and their settings (github*.go).
func (s *Server) installRoutes(e *echo.Echo) {
	e.POST("/plugins/upload", s.uploadPackage, s.installers...)
	e.POST("/plugins/install", s.install, s.installers...)
	e.GET("/examples/icon", s.exampleIcon, s.signedIn...)
	e.POST("/examples/install", s.installExample, s.installers...)
	e.GET("/marketplace", s.marketplacePage, s.signedIn...)
	e.GET("/marketplace/:author/:name", s.marketplaceDetail, s.signedIn...)
	e.POST("/marketplace/install", s.marketplaceInstall, s.installers...)
	e.POST("/plugins/:author/:name/auto-upgrade", s.saveAutoUpgrade, s.installers...)
	e.GET("/marketplace/:author/:name/:version/icon", s.marketplaceIcon, s.signedIn...)
	e.GET("/github", s.githubPage, s.installers...)
	e.GET("/github/releases", s.githubReleasesFragment, s.installers...)
	e.POST("/github/preview", s.githubPreview, s.installers...)
	e.GET("/github/updates/:author/:name", s.githubUpdates, s.installers...)
	e.POST("/github/settings", s.saveGitHubSettings, s.chains.AdminsWithKeys...)
}

// healthz answers load balancers and the e2e tests: the app is serving.
func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}
