// Package daemon assembles the plugin daemon: the plugin manager behind the
// HTTP API, listening on a TCP address. `plugboard daemon`, `plugboard plugin
// run` and the admin app's embedded daemon all start it through Start.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/plugboard/plugboard/daemon/api"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/debugging"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/metrics"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// Version is the daemon's version, reported by /health/check.
var Version = "dev"

// Config configures a daemon.
type Config struct {
	Addr    string // listen address, e.g. 127.0.0.1:5002 (":0" picks a port)
	APIKey  string
	Manager manager.Config
	Logger  *slog.Logger
	// DebugAddr is the remote debugging port's address (Dify's 5003); empty
	// disables remote debugging.
	DebugAddr string
	// Debugging tunes the remote debugging server (handshake timeout …).
	Debugging debugging.Config
	// Metrics collects the daemon's metrics, served on /metrics; nil gets
	// a new set (see Daemon.Metrics).
	Metrics *metrics.Daemon
	// PlatformURL is the base URL of the platform whose inner API
	// (/inner/api/…) answers plugins' calls back (Dify's
	// DIFY_INNER_API_URL), PlatformKey the key sent with them
	// (X-Inner-Api-Key). Empty: plugins' calls back other than storage are
	// answered with an error. They override Manager.CallBacks' fields.
	PlatformURL string
	PlatformKey string
}

// Daemon is a running daemon.
type Daemon struct {
	metrics  *metrics.Daemon
	manager  *manager.Manager
	server   *http.Server
	direct   api.Direct
	listener net.Listener
	done     chan error
	debug    *debugging.Server
	debugLn  net.Listener
}

// Start opens the manager (restoring installed plugins) and serves the API.
func Start(ctx context.Context, cfg Config) (*Daemon, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("daemon: an API key is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewDaemon()
	}
	cfg.Manager.Logger, cfg.Manager.Metrics = cfg.Logger, cfg.Metrics
	if cfg.PlatformURL != "" {
		cfg.Manager.CallBacks.PlatformURL, cfg.Manager.CallBacks.PlatformKey = cfg.PlatformURL, cfg.PlatformKey
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	var debugLn net.Listener
	if cfg.DebugAddr != "" {
		if debugLn, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen for remote debugging on %s: %w", cfg.DebugAddr, err)
		}
	}
	cfg.Logger.Info("plugin containment", "active", runtime.HostContainment())
	m, err := manager.Open(ctx, cfg.Manager)
	if err != nil {
		ln.Close()
		if debugLn != nil {
			debugLn.Close()
		}
		return nil, err
	}
	handler, direct := api.NewWithDirect(api.Config{
		APIKey:    cfg.APIKey,
		MaxUpload: cfg.Manager.Limits.MaxPackage,
		Logger:    cfg.Logger,
		Version:   Version,
		Metrics:   cfg.Metrics,
	}, m)
	cfg.Metrics.WatchPlugins(m.Runtimes)
	d := &Daemon{
		metrics:  cfg.Metrics,
		manager:  m,
		server:   &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second},
		direct:   direct,
		listener: ln,
		done:     make(chan error, 1),
		debugLn:  debugLn,
	}
	go func() { d.done <- d.server.Serve(ln) }()
	if debugLn != nil {
		if cfg.Debugging.Logger == nil {
			cfg.Debugging.Logger = cfg.Logger
		}
		d.debug = debugging.New(cfg.Debugging, m)
		go func() {
			if err := d.debug.Serve(debugLn); err != nil {
				cfg.Logger.Error("remote debugging server stopped", "err", err)
			}
		}()
	}
	return d, nil
}

// DebugAddr is the remote debugging port's address ("" when disabled).
func (d *Daemon) DebugAddr() string {
	if d.debugLn == nil {
		return ""
	}
	return d.debugLn.Addr().String()
}

// Metrics is the daemon's metrics (also served on its /metrics).
func (d *Daemon) Metrics() *metrics.Daemon { return d.metrics }

// URL is the base URL of the daemon's API.
func (d *Daemon) URL() string { return "http://" + d.listener.Addr().String() }

// Done reports the server's exit.
func (d *Daemon) Done() <-chan error { return d.done }

// Close stops serving (letting open streams finish until ctx ends), stops
// every plugin process and closes the state.
func (d *Daemon) Close(ctx context.Context) error {
	if d.debug != nil {
		d.debug.Close()
	}
	err := d.server.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = d.server.Close()
	}
	return errors.Join(err, d.manager.Close())
}

// Handler is the daemon's API handler, for a client in this process
// (client.InProcess): the embedded daemon's app calls it without a socket.
func (d *Daemon) Handler() http.Handler { return d.server.Handler }

// Direct is the daemon's tool dispatch for a client in this process
// (client.InProcess), without HTTP.
func (d *Daemon) Direct() apispec.DirectDispatcher { return d.direct }
