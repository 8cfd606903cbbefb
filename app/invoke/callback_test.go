package invoke_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/app"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web/inner"
)

// mustCallBackApp is `plugboard serve` in-process: a daemon forwarding
// calls back to the app's inner API on loopback, demo_model, gotools, the
// callbacks example and its variant without permissions installed. It
// returns the app, its store, the user alice and the inner API's address.
func mustCallBackApp(tb testing.TB) (*app.App, *store.DB, *store.User, string) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("runs the example plugins under a daemon calling back")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	const key = "inner-key-for-invoke-tests"
	cl := apptest.MustDaemonWith(tb, func(c *daemon.Config) { c.PlatformURL, c.PlatformKey = url, key })
	for _, name := range []string{"demo_model", "gotools", "callbacks"} {
		apptest.MustInstallExample(tb, cl, name)
	}
	apptest.MustInstallVariant(tb, cl, "callbacks", func(m string) string {
		m = strings.Replace(m, "name: callbacks", "name: callbacks_denied", 1)
		return regexp.MustCompile(`(?s)\n  permission:\n.*?\nplugins:`).ReplaceAllString(m, "\nplugins:")
	})
	db := apptest.MustStore(tb)
	keys, err := secret.Open(context.Background(), tb.TempDir(), "", db)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := app.New(app.Config{Store: db, Daemon: cl, Keys: keys, Logger: log})
	e := echo.New()
	inner.New(key, a.Callback, log).Routes(e)
	hs := &http.Server{Handler: e}
	go hs.Serve(ln)
	tb.Cleanup(func() { a.Close(); hs.Close() })
	ref := models.ModelRef{PluginID: "plugboard/demo_model", Provider: "demo_model", ModelType: "llm", Model: "demo-chat"}
	if err := a.Models.SetDefault(context.Background(), "test", ref); err != nil {
		tb.Fatal(err)
	}
	return a, db, apptest.MustUser(tb, db, "alice", store.RoleMember), url
}

// TestCallBackEvents runs the callbacks example's tour (storage get and set, summary,
// LLM, tool, upload) and its denied variant, and reads each call back
// among the run's events: handed to the caller, stored as call_back
// events, and kept out of the observation.
func TestCallBackEvents(t *testing.T) {
	a, db, alice, url := mustCallBackApp(t)
	call := func(t *testing.T, plugin, tool string, params map[string]any) (*store.Run, []string, []store.RunEvent) {
		t.Helper()
		var seen []string
		r, err := a.Invoke.Call(context.Background(), invoke.Request{Caller: invoke.Caller{UserID: alice.ID, Username: "alice", BaseURL: url},
			PluginID: plugin, Provider: "callbacks", Tool: tool, Params: params}, func(m *client.Message) {
			if m.Type == client.MessageCallBack {
				seen = append(seen, m.CallBack.Type+":"+m.CallBack.Outcome)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := db.RunEvents(context.Background(), r.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		return r, seen, evs
	}
	stored := func(evs []store.RunEvent) (out []invoke.Payload) {
		for _, ev := range evs {
			if ev.Type == invoke.EventCallBack {
				var p invoke.Payload
				if err := json.Unmarshal(ev.Payload, &p); err != nil || p.CallBack == nil {
					t.Fatalf("call back event %s: %v", ev.Payload, err)
				}
				out = append(out, p)
			}
		}
		return out
	}
	t.Run("OK", func(t *testing.T) {
		r, seen, evs := call(t, "plugboard/callbacks", "tour", map[string]any{"text": "hello plugboard"})
		if r.Status != store.RunDone {
			t.Fatalf("run %s: %s", r.Status, r.Error)
		}
		want := []string{"storage:ok", "storage:ok", "system_summary:ok", "llm:ok", "tool:ok", "upload_file:ok"}
		if strings.Join(seen, " ") != strings.Join(want, " ") {
			t.Fatalf("call backs handed on %v, want %v", seen, want)
		}
		cbs := stored(evs)
		if len(cbs) != len(want) {
			t.Fatalf("stored %d call back events, want %d", len(cbs), len(want))
		}
		for i, p := range cbs {
			if got := p.CallBack.Type + ":" + p.CallBack.Outcome; got != want[i] || p.CallBack.Frames == 0 {
				t.Errorf("stored call back %d: %+v, want %s with its frames", i, p.CallBack, want[i])
			}
		}
		obs := invoke.Observation(evs)
		if !strings.Contains(obs, "tool: hello plugboard") || strings.Contains(obs, "upload_file") {
			t.Fatalf("observation %q: the output without the call backs", obs)
		}
	})
	t.Run("ErrDenied", func(t *testing.T) {
		r, seen, evs := call(t, "plugboard/callbacks_denied", "ask", map[string]any{"question": "q"})
		if r.Status != store.RunFailed {
			t.Fatalf("run %s, want failed", r.Status)
		}
		cbs := stored(evs)
		if len(seen) != 1 || len(cbs) != 1 || cbs[0].CallBack.Outcome != "error" || !strings.Contains(cbs[0].CallBack.Error, "permission denied") {
			t.Fatalf("call backs %v, stored %+v: want the refused llm call", seen, cbs)
		}
	})
}
