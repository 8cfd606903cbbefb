package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/extension"
	appinstall "github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/outbound"
	"github.com/plugboard/plugboard/app/upgrade"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web/marketplace"
	"github.com/plugboard/plugboard/web/netguard"
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
	// allowlist is the guard of requests made on a user's behalf with its
	// allowlists (app/outbound), outbound the guard itself; extCaller
	// sends extension points through it (app/extension).
	allowlist *outbound.Guard
	outbound  *netguard.Guard
	extCaller *extension.Caller

	// Route middleware chains, see routes.go.
	public, signedIn, admins []echo.MiddlewareFunc
	// installers may install, upgrade and uninstall plugins, by the
	// install permission (permission.go).
	installers []echo.MiddlewareFunc
	// debuggers may debug plugins remotely, by the debug permission
	// (permission.go).
	debuggers []echo.MiddlewareFunc
	// market is the marketplace client (marketplace.go); nil when none.
	market *marketplace.Client
	// installs brings plugins in and takes them out (app/install), and
	// follows install tasks to audit how they end.
	installs *appinstall.Service
	// github makes GitHub clients with the saved settings (app/install).
	github *appinstall.GitHubClients
	// upgrades is the auto-upgrade scheduler (app/upgrade).
	upgrades scheduler
	// invoker invokes tools for users and keeps the live runs (app/invoke).
	invoker *invoke.Service
	// metrics are served on /metrics when a token is configured (metrics.go).
	metrics *appMetrics
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
		sessions: newCookieStore(cfg.SessionKeys),
		health:   newDaemonHealth(cfg.Daemon, cfg.DaemonURL, cfg.Now),
		log:      cfg.Logger,
		metrics:  newAppMetrics(cfg.DaemonMetrics),
	}
	s.kit = &page.Kit{Store: cfg.Store, Sessions: s.sessions, Health: s.health, Log: s.log, PublicURL: cfg.PublicURL}
	s.invoker = invoke.New(invoke.Config{Store: cfg.Store, Daemon: cfg.Daemon, Keys: cfg.Keys, Logger: cfg.Logger,
		Finished: s.metrics.run})
	s.allowlist = outbound.Open(context.Background(), cfg.Store, cfg.OutboundAllow, s.log)
	s.outbound = s.allowlist.Guard
	s.extCaller = extension.NewCaller(s.outbound, cfg.ExtensionTimeouts, time.Now)
	if m, err := appinstall.NewMarketplace(cfg.MarketplaceURL, cfg.Examples, cfg.OutboundAllow); err != nil {
		s.log.Error("marketplace: not available", "err", err)
	} else {
		s.market = m
	}
	s.wireServices()
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.IPExtractor = clientIP(cfg.TrustedProxies)
	s.echo.SchemeExtractor = echo.ExtractSchemeFromHeaders(trustOptions(cfg.TrustedProxies)...)
	s.echo.HTTPErrorHandler = s.handleError
	s.middleware()
	s.routes()
	s.serveMetrics()
	return s
}

// scheduler is what the server needs of app/upgrade: starting the
// scheduler, and stopping it.
type scheduler interface {
	Start()
	Close()
}

// wireServices makes the application services from the configuration.
func (s *Server) wireServices() {
	s.github = &appinstall.GitHubClients{Store: s.cfg.Store, Keys: s.cfg.Keys, Guard: s.outbound,
		DefaultURL: s.cfg.GitHubAPIURL, Timeout: s.cfg.GitHubTimeout}
	installs := appinstall.New(appinstall.Config{
		Store: s.cfg.Store, Daemon: s.cfg.Daemon, Marketplace: s.market, GitHub: s.github.Client,
		Examples: s.cfg.Examples, Logger: s.log, Now: s.cfg.Now,
	})
	upgrades := upgrade.New(upgrade.Config{Store: s.cfg.Store, Installs: installs, Logger: s.log, Now: s.cfg.Now})
	s.installs, s.upgrades = installs, upgrades
}

// StartAutoUpgrades starts the auto-upgrade scheduler, which Close stops.
func (s *Server) StartAutoUpgrades() { s.upgrades.Start() }

// Close stops the services' background work (the auto-upgrade scheduler,
// following install tasks for the audit log, the live playground runs)
// and waits for it.
func (s *Server) Close() {
	s.upgrades.Close()
	s.installs.Close()
	s.invoker.Close()
}

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
