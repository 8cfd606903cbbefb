package web

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app"
	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web/guard"
	"github.com/plugboard/plugboard/web/metrics"
	"github.com/plugboard/plugboard/web/page"
)

// Config is what the server needs.
type Config struct {
	Store  *store.DB
	Daemon *client.Client
	// Keys encrypts and decrypts secrets at rest (credentials, extension
	// API keys); open it with secret.Open.
	Keys *secret.Keyring
	// DaemonURL is shown when the daemon cannot be reached ("" for embedded).
	DaemonURL string
	// DaemonAPIURL and DaemonKey are the daemon's address and API key as a
	// user on this machine reaches it, for the playground's "copy as curl";
	// the key is given to admins only, on demand, never written into a page.
	DaemonAPIURL, DaemonKey string
	// SessionKeys sign (and encrypt) the session cookie; see LoadSessionKeys.
	SessionKeys [][]byte
	// Examples is the directory of example .difypkg packages offered for
	// one-click install.
	Examples string
	Logger   *slog.Logger
	// OutboundAllow names hosts and CIDRs that requests made on a user's
	// behalf (API-based extensions) may reach although the SSRF guard would
	// refuse them; the admins' allowlist setting adds to it. Nil: none.
	OutboundAllow *netguard.Allowlist
	// ExtensionTimeouts bound calls to API-based extensions; zero fields
	// mean 5 s to connect and 60 s to read.
	ExtensionTimeouts netguard.Timeouts
	// GitHubAPIURL is the GitHub REST API used until an admin saves one on
	// the GitHub page ("" for https://api.github.com).
	GitHubAPIURL string
	// GitHubTimeout bounds each request to GitHub (0: 60 s).
	GitHubTimeout time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// MarketplaceURL is the marketplace's base URL (Dify's API); "" serves
	// the examples directory as the marketplace, in-process.
	MarketplaceURL string
	// DebugAddr is the daemon's remote debugging address (host:port) shown on
	// the Debugging page ("" shows plugins.DefaultDebugAddr).
	DebugAddr string
	// PublicURL is the app's base URL as plugins can reach it (scheme and
	// host, no path): the playground's uploaded files are passed to tools as
	// download URLs under it. "" uses the address of the request that
	// started the run.
	PublicURL string
	// MetricsToken, when set, serves Prometheus metrics on /metrics to
	// callers sending "Authorization: Bearer <token>"; unset, there is no
	// /metrics. DaemonMetrics adds an embedded daemon's metrics to them.
	MetricsToken  string
	DaemonMetrics prometheus.Gatherer
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For or X-Real-IP (the client's address, for sign-in
	// throttling) and X-Forwarded-Proto (https: Secure cookies) are
	// believed. None: the direct peer is the client, and headers are not
	// believed from anyone.
	TrustedProxies []netip.Prefix
	// InnerAPIKey is the key the daemon sends plugins' calls back with
	// (X-Inner-Api-Key) to /inner/api/*; "" leaves the inner API unrouted.
	InnerAPIKey string
}

// Server is the admin app's HTTP handler.
type Server struct {
	cfg      Config
	store    *store.DB
	daemon   *client.Client
	echo     *echo.Echo
	sessions *sessions.CookieStore
	health   *daemonHealth
	log      *slog.Logger
	// app holds the application services the handlers call (package app).
	app *app.App
	// metrics are served on /metrics when a token is configured (web/metrics).
	metrics *metrics.App
	// kit is what every handler package shares (web/page); chains are the
	// route middleware chains by who may use a route (routes.go).
	kit    *page.Kit
	chains page.Chains
}

// New returns the server with every route registered.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg:      cfg,
		store:    cfg.Store,
		daemon:   cfg.Daemon,
		echo:     echo.New(),
		sessions: guard.NewCookieStore(cfg.SessionKeys),
		health:   newDaemonHealth(cfg.Daemon, cfg.DaemonURL, cfg.Now),
		log:      cfg.Logger,
		metrics:  metrics.New(cfg.DaemonMetrics),
	}
	s.kit = &page.Kit{Store: cfg.Store, Sessions: s.sessions, Health: s.health, Log: s.log, PublicURL: cfg.PublicURL}
	s.app = app.New(app.Config{Store: cfg.Store, Daemon: cfg.Daemon, Keys: cfg.Keys, Logger: cfg.Logger, Now: cfg.Now,
		Examples: cfg.Examples, OutboundAllow: cfg.OutboundAllow, ExtensionTimeouts: cfg.ExtensionTimeouts,
		MarketplaceURL: cfg.MarketplaceURL, GitHubAPIURL: cfg.GitHubAPIURL, GitHubTimeout: cfg.GitHubTimeout,
		PluginBaseURL: cfg.PublicURL, RunFinished: s.metrics.Run})
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.IPExtractor = guard.ClientIP(cfg.TrustedProxies)
	s.echo.SchemeExtractor = echo.ExtractSchemeFromHeaders(guard.TrustOptions(cfg.TrustedProxies)...)
	s.echo.HTTPErrorHandler = s.handleError
	s.middleware()
	s.routes()
	s.metrics.Serve(s.echo, cfg.MetricsToken)
	return s
}

// StartAutoUpgrades starts the auto-upgrade scheduler, which Close stops.
func (s *Server) StartAutoUpgrades() { s.app.Upgrades.Start() }

// Close stops the services' background work (the auto-upgrade scheduler,
// following install tasks for the audit log, the live playground runs)
// and waits for it.
func (s *Server) Close() { s.app.Close() }

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// needKeys refuses pages that seal or open secrets (extensions, GitHub settings) when the server has no keyring (a
// misconfigured embedding), instead of failing on the first key.
func (s *Server) needKeys(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Keys == nil {
			return plugboard.Errorf(plugboard.EUNAVAILABLE, "Secrets cannot be stored: this server was started without a keyring.")
		}
		return next(c)
	}
}

// credentials is the credential store with the server's keyring.
func (s *Server) credentials() *store.Credentials { return s.store.Credentials(s.cfg.Keys) }
