package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon/api"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/runtime"
)

// MustSmallDaemon starts a daemon whose plugins have two invocation slots,
// with gotools installed.
func MustSmallDaemon(tb testing.TB) *daemon {
	tb.Helper()
	dir := tb.TempDir()
	m, err := manager.Open(context.Background(), manager.Config{DataDir: dir, Limits: pkgfmt.DefaultLimits(),
		Runtime: runtime.Config{MaxConcurrent: 2}})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{APIKey: testKey}, m))
	d := &daemon{m: m, srv: srv, c: client.New(srv.URL, testKey), dir: dir}
	tb.Cleanup(d.close)
	d.MustInstall(tb, plugin(tb, "gotools"))
	return d
}

// hang opens an invocation of gotools' stream_text that sends one word and
// then waits ten minutes before the next.
func hang(d *daemon) (*client.ToolStream, error) {
	return d.c.InvokeTool(context.Background(), gotoolID, apispec.InvokeToolData{
		Provider: "gotools", Tool: "stream_text", ToolParameters: map[string]any{"text": "a b", "delay_ms": 600000},
	}, "u1")
}

func TestPluginBusy(t *testing.T) {
	d := MustSmallDaemon(t)
	for range 2 {
		s, err := hang(d)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	body := `{"user_id":"u1","data":{"provider":"gotools","tool":"stream_text","tool_parameters":{"text":"x"}}}`
	req, _ := http.NewRequest(http.MethodPost, d.srv.URL+"/plugin/default/dispatch/tool/invoke", strings.NewReader(body))
	req.Header.Set("X-Api-Key", testKey)
	req.Header.Set("X-Plugin-ID", gotoolID)
	req.Header.Set("Content-Type", "application/json")
	// The answer must come at once: a wait for a slot would outlast this.
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	var eb apispec.ErrorBody
	if err := json.Unmarshal(raw, &env); err != nil || json.Unmarshal([]byte(env.Message), &eb) != nil {
		t.Fatalf("body %s is not an error envelope", raw)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || env.Code == 0 ||
		eb.ErrorType != apispec.ErrBusy || !strings.Contains(eb.Message, "plugin plugboard/gotools is busy: all 2 of its invocation slots are in use") {
		t.Fatalf("status %d, Retry-After %q, body %s", resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
}

// patience bounds the waits of these tests.
const patience = 30 * time.Second

func TestPluginSettings(t *testing.T) {
	d := MustSmallDaemon(t)
	ctx := context.Background()
	t.Run("OKDefault", func(t *testing.T) {
		st, err := d.c.PluginSettings(ctx, gotoolID)
		if err != nil || st.InvokeTimeoutSeconds != 0 || st.DefaultInvokeTimeoutSeconds != 600 {
			t.Fatalf("settings %+v, %v", st, err)
		}
	})
	t.Run("OKTimeoutApplies", func(t *testing.T) {
		st, err := d.c.SetPluginSettings(ctx, apispec.PluginSettings{PluginID: gotoolID, InvokeTimeoutSeconds: 1})
		if err != nil || st.InvokeTimeoutSeconds != 1 {
			t.Fatalf("settings %+v, %v", st, err)
		}
		s, err := hang(d)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, err = drain(s)
		ce := MustClientError(t, err, http.StatusOK, apispec.ErrTimeout)
		if !strings.Contains(ce.Message, "did not finish within 1s") {
			t.Fatalf("message %q", ce.Message)
		}
	})
	t.Run("ErrNegative", func(t *testing.T) {
		_, err := d.c.SetPluginSettings(ctx, apispec.PluginSettings{PluginID: gotoolID, InvokeTimeoutSeconds: -5})
		MustClientError(t, err, http.StatusBadRequest, apispec.ErrBadRequest)
	})
	t.Run("ErrNotInstalled", func(t *testing.T) {
		_, err := d.c.SetPluginSettings(ctx, apispec.PluginSettings{PluginID: "acme/nope", InvokeTimeoutSeconds: 5})
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Status != http.StatusNotFound {
			t.Fatalf("got %v", err)
		}
	})
}

func TestMessageOverLineLimit(t *testing.T) {
	d, _ := MustShared(t)
	// json_echo sends the 6 MB payload back in one message, over the
	// 5 MiB line limit: the stream must end with an error, not a success.
	// (6 MB, not more: the echo holds a few copies, within gotools' 64 MiB.)
	s, err := d.c.InvokeTool(context.Background(), gotoolID, apispec.InvokeToolData{
		Provider: "gotools", Tool: "json_echo", ToolParameters: map[string]any{"payload": strings.Repeat("x", 10_000_000)},
	}, "u1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msgs, err := drain(s)
	var ce *client.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "sent a message over the 5 MiB line limit") || len(msgs) != 0 {
		t.Fatalf("got %d messages and %v; want an error frame naming the line limit", len(msgs), err)
	}
	msgs, err = drain(invoke(t, "stream_text", map[string]any{"text": "still serving", "delay_ms": 0}))
	if err != nil || len(msgs) != 2 {
		t.Fatalf("after the over-long message: %d messages, %v", len(msgs), err)
	}
}
