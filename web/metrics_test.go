package web_test

import (
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/plugboard/plugboard/store"
)

// metricsToken is the bearer token MustCredApp's app serves /metrics to.
const metricsToken = "metrics-token-for-tests"

// getMetrics asks the app for /metrics with the given Authorization header.
func getMetrics(tb testing.TB, appURL, auth string) (*http.Response, map[string]*dto.MetricFamily) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, appURL+"/metrics", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("parse /metrics: %v", err)
	}
	return resp, fams
}

// metricValue sums the counter and gauge samples (histograms: counts) of
// name whose labels include the pairs in want.
func metricValue(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
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
		if match {
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return total
}

func TestMetrics(t *testing.T) {
	a := MustCredApp(t)
	t.Run("ErrNoToken", func(t *testing.T) {
		for _, auth := range []string{"", "Bearer wrong", metricsToken} {
			if resp, _ := getMetrics(t, a.URL, auth); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
			}
		}
	})
	t.Run("ErrNotConfigured", func(t *testing.T) {
		plain := MustApp(t, deadDaemon)
		if resp, _ := getMetrics(t, plain.URL, "Bearer "+metricsToken); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404 without --metrics-token", resp.StatusCode)
		}
	})
	t.Run("OKAfterRun", func(t *testing.T) {
		b := a.admin(t)
		r := mustRunToEnd(t, b, a, streamPick, map[string]string{"text": "one two", "delay_ms": "0"})
		if r.Status != store.RunDone {
			t.Fatalf("run %+v", r)
		}
		b.Get("/no/such/page")
		_, fams := getMetrics(t, a.URL, "Bearer "+metricsToken)
		checks := []struct {
			name   string
			labels []string
		}{
			{"plugboard_app_playground_runs_total", []string{"plugin", "plugboard/gotools", "status", store.RunDone}},
			{"plugboard_app_playground_run_duration_seconds", []string{"plugin", "plugboard/gotools", "status", store.RunDone}},
			{"plugboard_app_http_requests_total", []string{"method", "POST", "route", "/playground/runs", "status", "303"}},
			{"plugboard_app_http_requests_total", []string{"method", "GET", "route", "unmatched", "status", "404"}},
			// the embedded daemon's metrics are served with the app's
			{"plugboard_daemon_invocations_total", []string{"plugin", "plugboard/gotools", "action", "invoke_tool", "outcome", "ok"}},
		}
		for _, c := range checks {
			if got := metricValue(fams, c.name, c.labels...); got != 1 {
				t.Errorf("%s%v = %v, want 1", c.name, c.labels, got)
			}
		}
		if metricValue(fams, "go_goroutines") == 0 {
			t.Error("no go_goroutines")
		}
	})
}
