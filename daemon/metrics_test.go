package daemon_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

const (
	testKey   = "metrics-test-key-0123456789"
	pytoolsID = "plugboard/pytools"
)

// MustDaemon starts a real daemon on a fresh data dir with pytools installed.
func MustDaemon(tb testing.TB) (*daemon.Daemon, *client.Client) {
	tb.Helper()
	ctx := context.Background()
	d, err := daemon.Start(ctx, daemon.Config{Addr: "127.0.0.1:0", APIKey: testKey,
		Manager: manager.Config{DataDir: tb.TempDir(), Limits: pkgfmt.DefaultLimits()}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close(context.Background()) })
	pkg, _, err := pkgfmt.Pack(os.DirFS("../examples/plugins/pytools"), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	c := client.New(d.URL(), testKey)
	up, err := c.UploadPackage(ctx, "pytools.difypkg", bytes.NewReader(pkg))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := c.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err != nil {
		tb.Fatal(err)
	}
	if task, err := c.WaitTask(ctx, res.TaskID); err != nil || task.Status != apispec.TaskSuccess {
		tb.Fatalf("install: %+v, %v", task, err)
	}
	return d, c
}

// scrape reads url's metrics (no key: /metrics is open, as Dify's).
func scrape(tb testing.TB, url string) map[string]*dto.MetricFamily {
	tb.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value sums the samples of name whose labels include want (a histogram's
// sample count).
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	total := 0.0
	for _, m := range fams[name].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			match = match && labels[want[i]] == want[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

// waitMetric scrapes until name{want} reaches v (the state it waits on), or fails at the test's deadline.
func waitMetric(tb testing.TB, url string, v float64, name string, want ...string) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := value(scrape(tb, url), name, want...)
		if got == v {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s%v = %v, want %v", name, want, got, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func invokeEcho(tb testing.TB, c *client.Client, text string) {
	tb.Helper()
	s, err := c.InvokeTool(context.Background(), pytoolsID, apispec.InvokeToolData{
		Provider: "pytools", Tool: "echo", ToolParameters: map[string]any{"text": text}}, "u1")
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	for {
		if _, err := s.Next(); err != nil {
			return
		}
	}
}

// TestMetrics scrapes the daemon's /metrics after real installs and
// invocations and checks that each metric moved.
func TestMetrics(t *testing.T) {
	d, c := MustDaemon(t)
	ctx := context.Background()
	url := d.URL()
	t.Run("Install", func(t *testing.T) {
		fams := scrape(t, url)
		if got := value(fams, "plugboard_daemon_installs_total", "outcome", "ok"); got != 1 {
			t.Fatalf("installs ok = %v", got)
		}
		for _, stage := range []string{apispec.StageVerifying, apispec.StageExtracting, apispec.StagePreparing, apispec.StageStarting} {
			if got := value(fams, "plugboard_daemon_install_stage_duration_seconds", "stage", stage, "outcome", "ok"); got != 1 {
				t.Errorf("stage %q observed %v times", stage, got)
			}
		}
		if got := value(fams, "plugboard_daemon_plugin_state", "plugin", pytoolsID, "state", apispec.StateRunning); got != 1 {
			t.Fatalf("running state = %v", got)
		}
	})
	t.Run("Invocations", func(t *testing.T) {
		invokeEcho(t, c, "one two")
		invokeEcho(t, c, "three")
		if _, err := c.RuntimeParameters(ctx, pytoolsID, "pytools", "request_info", nil); err == nil {
			t.Fatal("request_info answered runtime parameters")
		}
		fams := scrape(t, url)
		ok := []string{"plugin", pytoolsID, "action", "invoke_tool", "outcome", "ok"}
		if got := value(fams, "plugboard_daemon_invocations_total", ok...); got != 2 {
			t.Errorf("ok invocations = %v, want 2", got)
		}
		if got := value(fams, "plugboard_daemon_invocation_duration_seconds", ok...); got != 2 {
			t.Errorf("ok latencies = %v, want 2", got)
		}
		// The caller stops reading at the error frame, maybe before the
		// daemon has counted the call: wait for the count.
		errLabels := []string{"action", "get_tool_runtime_parameters", "outcome", "plugin_error"}
		got := value(fams, "plugboard_daemon_invocations_total", errLabels...)
		for i := 0; got == 0 && i < 500; i++ {
			time.Sleep(20 * time.Millisecond) // a polling interval, not a deadline
			got = value(scrape(t, url), "plugboard_daemon_invocations_total", errLabels...)
		}
		if got != 1 {
			t.Errorf("plugin errors = %v, want 1", got)
		}
	})
	t.Run("OpenStreams", func(t *testing.T) {
		s, err := c.InvokeTool(ctx, pytoolsID, apispec.InvokeToolData{Provider: "pytools", Tool: "echo",
			ToolParameters: map[string]any{"text": strings.Repeat("word ", 100), "delay_ms": 5000}}, "u1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Next(); err != nil {
			t.Fatal(err)
		}
		if got := value(scrape(t, url), "plugboard_daemon_open_streams"); got != 1 {
			t.Errorf("open streams = %v, want 1", got)
		}
		s.Close()
		waitMetric(t, url, 1, "plugboard_daemon_invocations_total", "outcome", "cancelled")
		waitMetric(t, url, 0, "plugboard_daemon_open_streams")
	})
	t.Run("Refused", func(t *testing.T) {
		bad := client.New(url, "wrong-key")
		if _, err := bad.InvokeTool(ctx, pytoolsID, apispec.InvokeToolData{Provider: "pytools", Tool: "echo"}, "u1"); err == nil {
			t.Fatal("wrong key accepted")
		}
		if _, err := c.InvokeTool(ctx, pytoolsID, apispec.InvokeToolData{Provider: "pytools", Tool: "nope"}, "u1"); err == nil {
			t.Fatal("unknown tool accepted")
		}
		fams := scrape(t, url)
		route := "/plugin/:tenant_id/dispatch/tool/invoke"
		if got := value(fams, "plugboard_daemon_calls_refused_total", "route", route, "reason", apispec.ErrUnauthorized); got != 1 {
			t.Errorf("unauthorized = %v", got)
		}
		if got := value(fams, "plugboard_daemon_calls_refused_total", "route", route, "reason", apispec.ErrPluginNotFound); got != 1 {
			t.Errorf("not found = %v", got)
		}
	})
	t.Run("Restarts", func(t *testing.T) {
		st, err := c.PluginStatus(ctx, pytoolsID)
		if err != nil || st.PID == 0 {
			t.Fatalf("status = %+v, %v", st, err)
		}
		if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitMetric(t, url, 1, "plugboard_daemon_plugin_restarts_total", "plugin", pytoolsID)
		waitMetric(t, url, 1, "plugboard_daemon_plugin_state", "plugin", pytoolsID, "state", apispec.StateRunning)
	})
}
