// Package metrics holds the admin app's Prometheus metrics — requests by
// route pattern and status, their latency, playground runs by plugin and
// outcome — and serves them, with an embedded daemon's, on /metrics to
// callers presenting the configured bearer token.
package metrics

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// App is the admin app's Prometheus metrics: its HTTP requests and
// the playground's tool runs. With an embedded daemon, /metrics serves the
// daemon's metrics too (and the Go runtime's and the process's once).
type App struct {
	registry *prometheus.Registry
	gatherer prometheus.Gatherer
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	runs     *prometheus.CounterVec
	runTime  *prometheus.HistogramVec
}

// New returns the metrics, in a registry of their own with daemon's (nil: none)
// gathered beside them.
func New(daemon prometheus.Gatherer) *App {
	m := &App{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_app_http_requests_total",
			Help: "Requests to the admin app by method, route pattern and status (4xx: refused).",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plugboard_app_http_request_duration_seconds",
			Help:    "Time to answer admin app requests (streams: until they end), by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_app_playground_runs_total",
			Help: "Playground tool runs by plugin and how they ended (succeeded, failed, cancelled).",
		}, []string{"plugin", "status"}),
		runTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plugboard_app_playground_run_duration_seconds",
			Help:    "Duration of playground tool runs by plugin and how they ended.",
			Buckets: []float64{.005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 600},
		}, []string{"plugin", "status"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.runs, m.runTime)
	m.gatherer = m.registry
	if daemon != nil { // the daemon's registry has the Go and process collectors
		m.gatherer = prometheus.Gatherers{m.registry, daemon}
	} else {
		m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Observe counts and times every request under its route pattern (never the
// raw path, whose values are unbounded). It hands an error to the error
// handler itself, so that the status it records is the one sent.
func (m *App) Observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound && !isRoute(c) {
			route = "unmatched"
		}
		m.requests.WithLabelValues(c.Request().Method, route, strconv.Itoa(c.Response().Status)).Inc()
		m.latency.WithLabelValues(c.Request().Method, route).Observe(time.Since(start).Seconds())
		return nil
	}
}

// isRoute reports whether the request matched a registered route (a 404 of
// an unknown path has echo's catch-all pattern).
func isRoute(c echo.Context) bool {
	return c.Path() != "/*" && c.Path() != "*"
}

// Run records a finished playground run.
func (m *App) Run(plugin, status string, took time.Duration) {
	m.runs.WithLabelValues(plugin, status).Inc()
	m.runTime.WithLabelValues(plugin, status).Observe(took.Seconds())
}

// Serve answers /metrics to a caller presenting the bearer token;
// without a configured token the route does not exist.
func (m *App) Serve(e *echo.Echo, metricsToken string) {
	token := []byte(metricsToken)
	if len(token) == 0 {
		return
	}
	h := promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
	e.GET("/metrics", func(c echo.Context) error {
		got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="plugboard metrics"`)
			return c.String(http.StatusUnauthorized, "metrics need Authorization: Bearer <--metrics-token>\n")
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	})
}
