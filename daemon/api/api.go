// Package api serves the daemon's HTTP API: Dify's management and dispatch
// routes under /plugin/{tenant_id}/, guarded by X-Api-Key, with Dify's
// {code, message, data} envelope and real HTTP status codes.
package api

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/metrics"
	"github.com/plugboard/plugboard/daemon/protocol"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// DefaultMaxUpload is the upload limit used when Config.MaxUpload is 0.
const DefaultMaxUpload = 15 << 20

// Config configures the API.
type Config struct {
	APIKey    string       // required on every /plugin/ route; empty rejects them all
	MaxUpload int64        // largest accepted package upload in bytes (DefaultMaxUpload)
	Logger    *slog.Logger // slog.Default() when nil
	Version   string       // reported by /health/check
	// Metrics, when set, is served on /metrics (no key needed, as Dify's)
	// and records invocations, open streams and refused calls.
	Metrics *metrics.Daemon
}

// Manager is what the API needs from the plugin manager (*manager.Manager).
type Manager interface {
	Upload(ctx context.Context, tenant string, data []byte) (*apispec.UploadResult, error)
	Install(ctx context.Context, tenant string, req apispec.InstallRequest) (*apispec.InstallResult, error)
	Upgrade(ctx context.Context, tenant string, req apispec.UpgradeRequest) (*apispec.InstallResult, error)
	Task(ctx context.Context, tenant, id string) (*apispec.Task, error)
	Tasks(ctx context.Context, tenant string, page, size int) ([]apispec.Task, error)
	DeleteTask(ctx context.Context, tenant, id string) error
	Uninstall(ctx context.Context, tenant, installationID string) error
	AddMCPServer(ctx context.Context, tenant string, req apispec.MCPServerRequest) (*apispec.Installation, error)
	List(ctx context.Context, tenant string, page, size int) (*apispec.Page[apispec.Installation], error)
	Manifest(ctx context.Context, uniqueIdentifier string) (*plugboard.Manifest, error)
	Readme(ctx context.Context, uniqueIdentifier, language string) (string, error)
	Asset(ctx context.Context, uniqueIdentifier, name string) ([]byte, error)
	Tools(ctx context.Context, tenant string, page, size int) ([]apispec.ToolProviderEntry, error)
	Tool(ctx context.Context, tenant, pluginID, provider string) (*apispec.ToolProviderEntry, error)
	Models(ctx context.Context, tenant string, page, size int) ([]apispec.ModelProviderEntry, error)
	Model(ctx context.Context, tenant, pluginID, provider string) (*apispec.ModelProviderEntry, error)
	Invoke(ctx context.Context, tenant, pluginID string, req *protocol.RequestData) (*runtime.Stream, error)
	Status(ctx context.Context, tenant, pluginID string) (*apispec.RuntimeStatus, error)
	Logs(ctx context.Context, tenant, pluginID string, limit int) ([]apispec.LogEntry, error)
	PluginSettings(ctx context.Context, tenant, pluginID string) (*apispec.PluginSettings, error)
	SetPluginSettings(ctx context.Context, tenant string, s apispec.PluginSettings) (*apispec.PluginSettings, error)
	Installed() int
	DebugKey(ctx context.Context, tenant string) (string, error)
	RegenerateDebugKey(ctx context.Context, tenant string) (string, error)
}

// server holds the handlers' shared state.
type server struct {
	cfg    Config
	m      Manager
	log    *slog.Logger
	active atomic.Int64 // dispatches in progress
}

// checkTenant refuses a tenant id that is not validTenant.
func checkTenant(id string) error {
	if !validTenant(id) {
		return plugboard.Errorf(plugboard.EINVALID, "tenant id %q must be 1 to 64 letters, digits, _ or -", id)
	}
	return nil
}

// validTenant reports whether id matches ^[A-Za-z0-9_-]{1,64}$ (checked
// without a regexp: it runs on every request).
func validTenant(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if b := id[i] | 0x20; !(b >= 'a' && b <= 'z' || id[i] >= '0' && id[i] <= '9' || id[i] == '_' || id[i] == '-') {
			return false
		}
	}
	return true
}

// New returns the API's handler.
func New(cfg Config, m Manager) *echo.Echo {
	e, _ := newServer(cfg, m)
	return e
}

func newServer(cfg Config, m Manager) (*echo.Echo, *server) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	s := &server{cfg: cfg, m: m, log: cfg.Logger}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}), middleware.Recover())
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		e.Use(s.logRequests())
	}
	e.GET("/health/check", s.health)
	if cfg.Metrics != nil {
		cfg.Metrics.WatchStreams(func() float64 { return float64(s.active.Load()) })
		e.GET("/metrics", echo.WrapHandler(cfg.Metrics.Handler()))
	}
	s.routes(e.Group("/plugin/:tenant_id"))
	return e, s
}

// routes registers the tenant-scoped routes. Middleware is attached per
// route, not per group: a group's middleware would turn every unknown path
// and wrong method under it into a catch-all route (no 404/405).
func (s *server) routes(g *echo.Group) {
	auth := s.authenticate
	m := "/management"
	g.POST(m+"/install/upload/package", s.upload, auth)
	g.POST(m+"/install/identifiers", s.install, auth)
	g.POST(m+"/install/upgrade", s.upgrade, auth)
	g.GET(m+"/install/tasks", s.tasks, auth)
	g.GET(m+"/install/tasks/:id", s.task, auth)
	g.POST(m+"/install/tasks/:id/delete", s.deleteTask, auth)
	g.POST(m+"/install/tasks/delete_all", s.deleteAllTasks, auth)
	g.POST(m+"/uninstall", s.uninstall, auth)
	g.POST(m+"/mcp/servers", s.addMCPServer, auth)
	g.GET(m+"/list", s.list, auth)
	g.GET(m+"/fetch/manifest", s.fetchManifest, auth)
	g.GET(m+"/fetch/readme", s.fetchReadme, auth)
	g.GET(m+"/decode/from_identifier", s.decodeFromIdentifier, auth)
	g.GET(m+"/tools", s.tools, auth)
	g.GET(m+"/tool", s.tool, auth)
	g.GET(m+"/models", s.models, auth)
	g.GET(m+"/model", s.model, auth)
	g.GET(m+"/plugin/status", s.status, auth)
	g.GET(m+"/plugin/logs", s.logs, auth)
	g.GET(m+"/plugin/settings", s.pluginSettings, auth)
	g.POST(m+"/plugin/settings", s.setPluginSettings, auth)
	g.GET(m+"/asset", s.asset, auth)
	d := "/dispatch/tool"
	g.POST(d+"/invoke", s.invokeTool, auth, s.requirePluginID)
	g.POST(d+"/validate_credentials", s.validateCredentials, auth, s.requirePluginID)
	g.POST(d+"/get_runtime_parameters", s.runtimeParameters, auth, s.requirePluginID)
	s.registerModelRoutes(g, auth, s.requirePluginID)
	g.POST("/dispatch/agent_strategy/invoke", s.invokeAgentStrategy, auth, s.requirePluginID)
	g.POST("/debugging/key", s.debugKey, auth)
	g.POST("/debugging/key/regenerate", s.regenerateDebugKey, auth)
}

// authenticate checks X-Api-Key (in constant time) and the tenant id.
func (s *server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	want := []byte(s.cfg.APIKey)
	return func(c echo.Context) error {
		got := []byte(c.Request().Header.Get("X-Api-Key"))
		if len(want) == 0 || subtle.ConstantTimeCompare(got, want) != 1 {
			return plugboard.Errorf(plugboard.EUNAUTHORIZED, "unauthorized")
		}
		if err := checkTenant(c.Param("tenant_id")); err != nil {
			return err
		}
		return next(c)
	}
}

// requestIDs numbers requests after a random per-process prefix: unique
// enough to correlate logs, and cheaper on the hot path than 32 random bytes.
var (
	requestIDPrefix = strconv.FormatUint(rand.Uint64(), 36) + "-"
	requestIDs      atomic.Uint64
)

func newRequestID() string {
	return requestIDPrefix + strconv.FormatUint(requestIDs.Add(1), 36)
}

// health answers /health/check; like Dify's, the reply is not enveloped.
func (s *server) health(c echo.Context) error {
	return c.JSON(http.StatusOK, apispec.Health{
		Status:         "ok",
		Platform:       "local",
		Version:        s.cfg.Version,
		Plugins:        s.m.Installed(),
		ActiveRequests: s.active.Load(),
	})
}

// logRequests logs each request at debug level (installed only when enabled).
func (s *server) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod: true, LogURIPath: true, LogStatus: true, LogLatency: true, LogRequestID: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			s.log.Debug("request", "method", v.Method, "path", v.URIPath, "status", v.Status,
				"latency", v.Latency, "request_id", v.RequestID)
			return nil
		},
	})
}

// ok writes a success envelope.
func ok(c echo.Context, data any) error {
	return c.JSON(http.StatusOK, envelope{Code: apispec.CodeOK, Message: "success", Data: data})
}

// envelope is apispec.Envelope with data of any type, for writing.
type envelope struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}
