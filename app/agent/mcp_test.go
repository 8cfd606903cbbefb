package agent_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/app/agent"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/store"
)

// An MCP server's tool is offered to the model and called like a plugin's:
// through app/invoke, its result the observation.
func TestAgentMCPServerTool(t *testing.T) {
	env := MustEnv(t)
	apptest.MustAddMCPEcho(t, env.Daemon)
	req := env.request(`call echo {"text":"from the agent"}`)
	req.Tools = []agent.ToolRef{{PluginID: "mcp/echo", Provider: "echo", Tool: "echo"}, {PluginID: "mcp/echo", Provider: "echo", Tool: "slow"}}
	r, st, _ := env.MustRun(t, req)
	if r.Status != store.RunDone || len(st) != 2 || callNames(st[0]) != "echo:done" {
		t.Fatalf("run %s %q, %d steps, calls %q", r.Status, r.Error, len(st), callNames(st[0]))
	}
	if st[0].Calls[0].Observation != "echo: from the agent" || !strings.Contains(r.Answer, "echo: from the agent") {
		t.Fatalf("observation %q, answer %q", st[0].Calls[0].Observation, r.Answer)
	}
	tr, err := env.Store.FindRun(t.Context(), st[0].Calls[0].RunID)
	if err != nil || tr.PluginID != "mcp/echo" || tr.Tool != "echo" || tr.Status != store.RunDone {
		t.Fatalf("tool run %+v %v", tr, err)
	}

	// A failing MCP tool is an error observation in the server's words.
	req = env.request(`call fail {"reason":"on purpose"}`)
	req.Tools = []agent.ToolRef{{PluginID: "mcp/echo", Provider: "echo", Tool: "fail"}}
	r, st, _ = env.MustRun(t, req)
	if r.Status != store.RunDone || callNames(st[0]) != "fail:error" || !strings.Contains(st[0].Calls[0].Observation, "failed: on purpose") {
		t.Fatalf("fail: run %s, call %+v", r.Status, st[0].Calls[0])
	}
}
