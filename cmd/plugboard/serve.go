package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/runtime"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web"
	"github.com/plugboard/plugboard/web/guard"
)

type serveCmd struct {
	Addr      string `default:"127.0.0.1:8080" env:"PLUGBOARD_ADDR" help:"Address of the admin app."`
	Data      string `type:"path" default:"./data" env:"PLUGBOARD_DATA" help:"Data directory (database, session keys, the embedded daemon's state)."`
	DaemonURL string `env:"PLUGBOARD_DAEMON_URL" help:"Use the daemon at this URL instead of starting one inside."`
	DaemonKey string `env:"PLUGBOARD_DAEMON_KEY" help:"API key of the daemon at --daemon-url (prefer the environment variable or --daemon-key-file: arguments show in the process list)."`
	Examples  string `type:"path" default:"./dist" env:"PLUGBOARD_EXAMPLES" help:"Directory of example .difypkg packages offered for one-click install."`
	Debug     bool   `env:"PLUGBOARD_DEBUG" help:"Log at debug level."`
	LogFormat string `default:"text" enum:"text,json" env:"PLUGBOARD_LOG_FORMAT" help:"Log format: text, or json (one JSON object per line)."`
	DebugAddr string `default:"127.0.0.1:5003" env:"PLUGBOARD_DEBUG_ADDR" help:"Remote debugging address: the embedded daemon listens there (empty disables it); with --daemon-url, that daemon's debugging address, shown on the Debugging page."`

	DaemonKeyFile   string        `name:"daemon-key-file" env:"PLUGBOARD_DAEMON_KEY_FILE" help:"File holding the API key of the daemon at --daemon-url, instead of --daemon-key."`
	MarketplaceURL  string        `env:"PLUGBOARD_MARKETPLACE_URL" help:"Base URL of the plugin marketplace (Dify's API); unset, the example packages are the marketplace."`
	OutboundAllow   string        `env:"PLUGBOARD_OUTBOUND_ALLOW" help:"Hosts, IP addresses or CIDRs (comma-separated) that requests made on a user's behalf (API extensions) may reach although loopback, private or link-local; admins can add more on the Extensions page."`
	PublicURL       string        `name:"public-url" env:"PLUGBOARD_PUBLIC_URL" help:"The app's base URL as plugins can reach it, for files passed to tools from the playground (default http://<addr>, loopback when --addr has no host)."`
	MetricsToken    string        `env:"PLUGBOARD_METRICS_TOKEN" help:"Serve Prometheus metrics on /metrics to requests with 'Authorization: Bearer <token>' (the app's, and the embedded daemon's); unset, the app has no /metrics."`
	InvokeTimeout   time.Duration `default:"600s" env:"PLUGBOARD_INVOKE_TIMEOUT" help:"The embedded daemon's default limit of one tool invocation (admins can set one per plugin)."`
	TrustedProxies  string        `name:"trusted-proxies" env:"PLUGBOARD_TRUSTED_PROXIES" help:"CIDRs or addresses (comma-separated) of reverse proxies whose X-Forwarded-For / X-Real-IP (the client's address) and X-Forwarded-Proto are believed; unset, the connecting address is the client and no forwarding header is believed."`
	InnerAPIKey     string        `name:"inner-api-key" env:"PLUGBOARD_INNER_API_KEY" help:"With --daemon-url: the key that daemon sends plugins' calls back with (its --platform-key); the app answers them on /inner/api/*. Unset, calls back are not answered (with the embedded daemon, a key is made at each start)."`
	InnerAPIKeyFile string        `name:"inner-api-key-file" env:"PLUGBOARD_INNER_API_KEY_FILE" help:"File holding --inner-api-key."`
	GitHubAPIURL    string        `name:"github-api-url" env:"PLUGBOARD_GITHUB_API_URL" help:"GitHub REST API for installs from GitHub releases until an admin saves one on the GitHub page (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3)."`

	pythonFlags `embed:""`
}

func (c *serveCmd) Run(ctx context.Context) error {
	logger := newLogger(c.Debug, c.LogFormat)
	allow, err := netguard.ParseAllowlist(c.OutboundAllow)
	if err != nil {
		return fmt.Errorf("--outbound-allow: %w", err)
	}
	proxies, err := guard.ParseTrustedProxies(c.TrustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	if c.MarketplaceURL != "" {
		if _, err := netguard.CheckURL(c.MarketplaceURL); err != nil {
			return fmt.Errorf("--marketplace-url: %w", err)
		}
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return fmt.Errorf("--public-url %q: want http(s)://host[:port]", c.PublicURL)
	}
	if c.DaemonKey, err = keyFromFlags("--daemon-key", c.DaemonKey, c.DaemonKeyFile); err != nil {
		return err
	}
	if c.InnerAPIKey, err = keyFromFlags("--inner-api-key", c.InnerAPIKey, c.InnerAPIKeyFile); err != nil {
		return err
	}
	if err := privateDir(c.Data); err != nil {
		return err
	}
	db, err := store.Open(ctx, filepath.Join(c.Data, "plugboard.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	secrets, err := secret.Open(ctx, c.Data, os.Getenv(secret.EnvVar), db)
	if err != nil {
		return err
	}
	keys, err := guard.LoadSessionKeys(filepath.Join(c.Data, "session-keys"))
	if err != nil {
		return err
	}
	// Listen first: the embedded daemon is told the address it calls back to.
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	defer ln.Close()
	dc, err := c.daemon(ctx, logger, loopbackURL(ln.Addr()))
	if err != nil {
		return err
	}
	defer dc.stop()
	srv := web.New(web.Config{
		Store: db, Keys: secrets, Daemon: dc.client, DaemonURL: c.DaemonURL, SessionKeys: keys,
		DaemonAPIURL: dc.url, DaemonKey: dc.key,
		MetricsToken: c.MetricsToken, DaemonMetrics: dc.metrics,
		Examples: c.Examples, Logger: logger, OutboundAllow: allow, DebugAddr: c.DebugAddr,
		MarketplaceURL: c.MarketplaceURL,
		GitHubAPIURL:   c.GitHubAPIURL,
		PublicURL:      c.publicURL(),
		TrustedProxies: proxies,
		InnerAPIKey:    dc.innerKey,
	})
	defer srv.Close()
	srv.StartAutoUpgrades()
	return c.serve(ctx, ln, srv)
}

// privateDir creates the data directory for its owner only, narrowing an
// existing one: it holds the master key, the session keys and the database.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// publicURL is --public-url, else http://<addr>, with a loopback host for
// an unspecified one; "" (each request's own address) when the port is
// chosen at listen time.
func (c *serveCmd) publicURL() string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "0" || port == "" {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// loopbackURL is the app's base URL on this machine for the address it
// listens on: an unspecified host becomes 127.0.0.1.
func loopbackURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// daemonConn is the daemon the app uses: its client, address and key, the
// key it calls back to the app's inner API with ("" : none), and stop,
// which shuts an embedded daemon down.
type daemonConn struct {
	client   *client.Client
	url, key string
	innerKey string
	metrics  prometheus.Gatherer // an embedded daemon's; nil for one at --daemon-url
	stop     func()
}

// daemon starts the embedded daemon, or connects to --daemon-url; either way
// the app reaches it through the client. The embedded daemon calls plugins'
// calls back to appURL with a key made for this start; a daemon at
// --daemon-url with --inner-api-key. An embedded daemon's metrics are kept
// for the app's /metrics.
func (c *serveCmd) daemon(ctx context.Context, logger *slog.Logger, appURL string) (*daemonConn, error) {
	if c.DaemonURL != "" {
		if c.DaemonKey == "" {
			return nil, errors.New("--daemon-url needs --daemon-key (or PLUGBOARD_DAEMON_KEY)")
		}
		return &daemonConn{client: client.New(c.DaemonURL, c.DaemonKey), url: c.DaemonURL, key: c.DaemonKey,
			innerKey: c.InnerAPIKey, stop: func() {}}, nil
	}
	if c.InnerAPIKey != "" {
		return nil, errors.New("--inner-api-key is for a daemon at --daemon-url; the embedded daemon gets a key of its own at each start")
	}
	if err := checkInvokeTimeout(c.InvokeTimeout); err != nil {
		return nil, err
	}
	py, err := c.options()
	if err != nil {
		return nil, err
	}
	key, innerKey := randomKey(), randomKey()
	cfg := daemon.Config{
		Addr: "127.0.0.1:0", APIKey: key, Logger: logger, DebugAddr: c.DebugAddr,
		PlatformURL: appURL, PlatformKey: innerKey,
		Manager: manager.Config{DataDir: filepath.Join(c.Data, "daemon"), HideDirs: []string{c.Data}, Limits: pkgfmt.DefaultLimits(), Runner: py,
			Runtime: runtime.Config{InvokeTimeout: c.InvokeTimeout}},
	}
	d, err := daemon.Start(ctx, cfg)
	if errors.Is(err, syscall.EADDRINUSE) && cfg.DebugAddr != "" {
		// Another Plugboard has the debugging port: debug through a free one.
		logger.Warn("remote debugging address in use; using a free port", "addr", cfg.DebugAddr)
		cfg.DebugAddr = "127.0.0.1:0"
		d, err = daemon.Start(ctx, cfg)
	}
	if err == nil {
		c.DebugAddr = d.DebugAddr() // what the Debugging page shows
	}
	if err != nil {
		return nil, fmt.Errorf("start the embedded daemon: %w", err)
	}
	stop := func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Close(shutdown); err != nil {
			logger.Warn("daemon shutdown", "err", err)
		}
	}
	// The app calls its embedded daemon's API handler in process (no
	// socket); the daemon still listens for the CLI and other clients.
	return &daemonConn{client: client.New(d.URL(), key, client.InProcess(d.Handler(), d.Direct())), url: d.URL(), key: key, innerKey: innerKey,
		metrics: d.Metrics().Gatherer(), stop: stop}, nil
}

// serve serves on ln, prints the URL, and shuts down gracefully when ctx
// ends (SIGINT/SIGTERM): open requests and streams get a few seconds to
// finish.
func (c *serveCmd) serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	fmt.Printf("Plugboard is running at http://%s (data in %s)\n", ln.Addr(), c.Data)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := hs.Shutdown(shutdown)
	if errors.Is(err, context.DeadlineExceeded) {
		err = hs.Close()
	}
	fmt.Println("Plugboard stopped.")
	return err
}
