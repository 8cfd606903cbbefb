// Package metrics holds the daemon's Prometheus metrics (served on /metrics,
// as Dify's daemon does): invocations and their latency by plugin and
// outcome, open streams, plugin processes (state, restarts, memory), install
// stages and their durations, and calls refused.
//
// Each Daemon has a registry of its own, since several daemons can run in
// one process (tests; the admin app's embedded daemon, whose metrics the app
// serves alongside its own). Every method is safe on a nil *Daemon, so
// components take one optionally.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plugboard/plugboard/daemon/apispec"
)

// Invocation outcomes: how a dispatched session ended.
const (
	OutcomeOK          = "ok"           // the plugin ended it
	OutcomePluginError = "plugin_error" // the plugin reported an error
	OutcomeTimeout     = "timeout"      // the invocation timeout or the caller's deadline
	OutcomeCancelled   = "cancelled"    // the caller went away
	OutcomeUnavailable = "unavailable"  // the plugin crashed, stopped or was cut off
	OutcomeError       = "error"        // anything else
)

// Install outcomes of a stage or a whole install.
const (
	InstallOK     = "ok"
	InstallFailed = "failed"
)

// Daemon is one daemon's metrics.
type Daemon struct {
	registry *prometheus.Registry

	invocations *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	refused     *prometheus.CounterVec
	stages      *prometheus.HistogramVec
	installs    *prometheus.CounterVec
	callBacks   *prometheus.HistogramVec
}

// NewDaemon returns a Daemon with its metrics registered, plus the Go
// runtime's and the process's.
func NewDaemon() *Daemon {
	d := &Daemon{
		registry: prometheus.NewRegistry(),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_daemon_invocations_total",
			Help: "Dispatched plugin sessions by plugin, action (invoke_tool, validate_tool_credentials, get_tool_runtime_parameters, and the model actions invoke_llm, invoke_text_embedding, get_ai_model_schemas …) and outcome.",
		}, []string{"plugin", "action", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plugboard_daemon_invocation_duration_seconds",
			Help:    "Time from a dispatch request to the end of its stream, by plugin, action and outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 600},
		}, []string{"plugin", "action", "outcome"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_daemon_calls_refused_total",
			Help: "API calls answered with an error status (bad key, bad input, unknown plugin, plugin unavailable …), by route and Dify error type.",
		}, []string{"route", "reason"}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plugboard_daemon_install_stage_duration_seconds",
			Help:    "Duration of each install stage (verifying, extracting, preparing environment, starting), by outcome.",
			Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900},
		}, []string{"stage", "outcome"}),
		installs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_daemon_installs_total",
			Help: "Plugins taken through an install or upgrade task, by outcome.",
		}, []string{"outcome"}),
		callBacks: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plugboard_daemon_call_back_duration_seconds",
			Help:    "Plugins' calls back into the platform (storage, llm, tool …), by plugin, type and outcome (ok, refused: permission or a bound, error).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"plugin", "type", "outcome"}),
	}
	d.registry.MustRegister(d.invocations, d.latency, d.refused, d.stages, d.installs, d.callBacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return d
}

// Gatherer is the registry, for serving these metrics with others.
func (d *Daemon) Gatherer() prometheus.Gatherer {
	if d == nil {
		return prometheus.Gatherers{}
	}
	return d.registry
}

// Handler serves the metrics in Prometheus' text format.
func (d *Daemon) Handler() http.Handler {
	return promhttp.HandlerFor(d.Gatherer(), promhttp.HandlerOpts{})
}

// Invocation records one dispatched session.
func (d *Daemon) Invocation(plugin, action, outcome string, took time.Duration) {
	if d == nil {
		return
	}
	d.invocations.WithLabelValues(plugin, action, outcome).Inc()
	d.latency.WithLabelValues(plugin, action, outcome).Observe(took.Seconds())
}

// Refused records a call answered with an error status.
func (d *Daemon) Refused(route, reason string) {
	if d == nil {
		return
	}
	d.refused.WithLabelValues(route, reason).Inc()
}

// InstallStage records how long an install stage took and how it ended.
func (d *Daemon) InstallStage(stage, outcome string, took time.Duration) {
	if d == nil {
		return
	}
	d.stages.WithLabelValues(stage, outcome).Observe(took.Seconds())
}

// Install records one plugin's install (or upgrade) outcome.
func (d *Daemon) Install(outcome string) {
	if d == nil {
		return
	}
	d.installs.WithLabelValues(outcome).Inc()
}

// WatchStreams reports open dispatch streams, read from open at each scrape.
func (d *Daemon) WatchStreams(open func() float64) {
	if d == nil {
		return
	}
	d.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "plugboard_daemon_open_streams",
		Help: "Dispatch streams (SSE responses) open now.",
	}, open))
}

// Plugin is one plugin runtime as the metrics show it.
type Plugin struct {
	PluginID string // author/name
	Version  string
	Runtime  string // local or remote
	Status   apispec.RuntimeStatus
}

// WatchPlugins reports the plugin runtimes list returns at each scrape:
// their state, restarts, memory and in-flight invocations.
func (d *Daemon) WatchPlugins(list func() []Plugin) {
	if d == nil {
		return
	}
	d.registry.MustRegister(&pluginCollector{list: list})
}

var (
	stateDesc = prometheus.NewDesc("plugboard_daemon_plugin_state",
		"1 for the state each plugin runtime is in (starting, running, restarting, failed, stopped).",
		[]string{"plugin", "version", "runtime", "state"}, nil)
	restartsDesc = prometheus.NewDesc("plugboard_daemon_plugin_restarts_total",
		"Restarts of each plugin's process (crash, lost heartbeat, memory limit) since it was started.",
		[]string{"plugin", "version", "runtime"}, nil)
	memoryDesc = prometheus.NewDesc("plugboard_daemon_plugin_memory_bytes",
		"Resident memory of each plugin's process group.",
		[]string{"plugin", "version", "runtime"}, nil)
	inFlightDesc = prometheus.NewDesc("plugboard_daemon_plugin_in_flight",
		"Invocations each plugin is working on now.",
		[]string{"plugin", "version", "runtime"}, nil)
	states = []string{apispec.StateStarting, apispec.StateRunning, apispec.StateRestarting,
		apispec.StateFailed, apispec.StateStopped}
)

// pluginCollector turns the runtimes' status into metrics at scrape time, so
// the runtime needs no hooks.
type pluginCollector struct {
	list func() []Plugin
}

func (c *pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{stateDesc, restartsDesc, memoryDesc, inFlightDesc} {
		ch <- d
	}
}

func (c *pluginCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.list() {
		labels := []string{p.PluginID, p.Version, p.Runtime}
		for _, s := range states {
			v := 0.0
			if p.Status.State == s {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, v, append(labels, s)...)
		}
		ch <- prometheus.MustNewConstMetric(restartsDesc, prometheus.CounterValue, float64(p.Status.Restarts), labels...)
		ch <- prometheus.MustNewConstMetric(memoryDesc, prometheus.GaugeValue, float64(p.Status.MemoryBytes), labels...)
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(p.Status.InFlight), labels...)
	}
}

// Outcomes of a call back.
const (
	CallBackOK      = "ok"
	CallBackRefused = "refused" // not permitted, or over a bound
	CallBackError   = "error"
)

// CallBack records one of a plugin's calls back.
func (d *Daemon) CallBack(plugin, typ, outcome string, took time.Duration) {
	if d == nil {
		return
	}
	d.callBacks.WithLabelValues(plugin, typ, outcome).Observe(took.Seconds())
}
