package invoke_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
)

func mcpEcho(tool string, params map[string]any) invoke.Request {
	return invoke.Request{Caller: invoke.Caller{UserID: 1, Username: "ann"}, PluginID: "mcp/echo", Provider: "echo", Tool: tool, Params: params}
}

// An MCP server's tools run through the playground's path: checked
// parameters, the run recorded, progress streamed, cancel reaching the
// server, a dead server a failed run and then a restarted one.
func TestCallMCPServer(t *testing.T) {
	e := MustEnv(t)
	apptest.MustAddMCPEcho(t, e.Daemon)
	ctx := context.Background()

	var got []string
	r, err := e.Svc.Call(ctx, mcpEcho("slow", map[string]any{"steps": 2.0, "delay_ms": 1.0}), func(m *client.Message) { got = append(got, m.Text) })
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.RunDone || strings.Join(got, "|") != "step 1 of 2\n|step 2 of 2\n|done" {
		t.Fatalf("run %s %q, messages %q", r.Status, r.Error, got)
	}
	if obs := invoke.Observation(e.mustEvents(t, r.ID)); !strings.HasSuffix(obs, "done") {
		t.Fatalf("observation %q", obs)
	}

	// Parameters are checked against the declaration made from the schema.
	if _, err := e.Svc.Call(ctx, mcpEcho("echo", map[string]any{"upper": true}), nil); err == nil || !strings.Contains(err.Error(), "text") {
		t.Fatalf("missing text: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	r, err = e.Svc.Call(cctx, mcpEcho("slow", map[string]any{"steps": 100000.0, "delay_ms": 20.0}), func(*client.Message) { cancel() })
	cancel()
	if err != nil || r.Status != store.RunCancelled {
		t.Fatalf("cancelled run %+v %v", r, err)
	}
	waitFor(t, func() bool {
		logs, _ := e.Daemon.PluginLogs(ctx, "mcp/echo", 200)
		for _, l := range logs {
			if strings.Contains(l.Message, "slow: cancelled") {
				return true
			}
		}
		return false
	})

	r, err = e.Svc.Call(ctx, mcpEcho("crash", nil), nil)
	if err != nil || r.Status != store.RunFailed || !strings.Contains(r.Error, "closed its connection") {
		t.Fatalf("crash run %+v %v", r, err)
	}
	waitFor(t, func() bool {
		st, err := e.Daemon.PluginStatus(ctx, "mcp/echo")
		return err == nil && st.State == "running" && st.Restarts >= 1
	})
	var text strings.Builder
	r, err = e.Svc.Call(ctx, mcpEcho("echo", map[string]any{"text": "again"}), func(m *client.Message) { text.WriteString(m.Text) })
	if err != nil || r.Status != store.RunDone || text.String() != "echo: again" {
		t.Fatalf("after the restart: %+v %v %q", r, err, text.String())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
