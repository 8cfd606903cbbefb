package invoke_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/inner/innertest"
)

// TestCallBackEvents runs the callbacks example's tour (storage get and set, summary,
// LLM, tool, upload) and its denied variant, and reads each call back
// among the run's events: handed to the caller, stored as call_back
// events, and kept out of the observation.
func TestCallBackEvents(t *testing.T) {
	st := innertest.MustStack(t)
	a, db, alice, url := st.App, st.Store, st.User, st.URL
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
