package agent_test

import (
	"context"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/app/agent"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/inner/innertest"
)

// TestAgentStrategyCallsBack runs testdata/pycalling, a function-calling
// strategy written as Dify's official one is (the model and each tool
// reached by calling back, the tool's credential from the session
// context), under a daemon calling back into the app: its rounds are the
// steps, its calls back are listed in them, the tool it called is a
// recorded tool run with the credential the agent was given, and the
// model's last turn is the answer.
func TestAgentStrategyCallsBack(t *testing.T) {
	st := innertest.MustStack(t)
	apptest.MustInstallDir(t, st.Daemon, "app/agent/testdata/pycalling")
	creds := st.Store.Credentials(st.Keys)
	var ids []int64
	for _, name := range []string{"default", "mine"} { // the first is the provider's default
		c, err := creds.CreateCredential(context.Background(), "alice", store.CredentialInput{PluginID: "plugboard/gotools",
			Provider: "gotools", Name: name, Secrets: map[string]string{"api_key": "key-" + name}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	req := agent.Request{Caller: invoke.Caller{UserID: st.User.ID, Username: st.User.Username, BaseURL: st.URL},
		Spec: agent.Spec{Model: innertest.DemoChat, Query: "hello strategy", Instructions: "Use the tools.",
			Parameters: map[string]any{"delay_ms": 0}, Strategy: agent.StrategyPlugin, MaxIterations: 3,
			Plugin: &agent.StrategyRef{PluginID: "plugboard/pycalling", Provider: "calling", Strategy: "function_calling"},
			Tools:  []agent.ToolRef{{PluginID: "plugboard/gotools", Provider: "gotools", Tool: "stream_text", CredentialID: ids[1]}}}}
	var live []string
	r, err := st.App.Agent.Run(context.Background(), req, func(ev agent.Event) {
		if ev.Type == agent.EventCallBack {
			live = append(live, ev.CallBack.Type+":"+ev.CallBack.Outcome)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	sts := steps(t, r)
	if r.Status != store.RunDone || len(sts) != 2 {
		t.Fatalf("run %s %q, %d steps", r.Status, r.Error, len(sts))
	}
	if want := "The tool answered: hello strategy"; !strings.Contains(r.Answer, want) {
		t.Errorf("answer %q, want %q in it", r.Answer, want)
	}
	if got := strings.Join(live, " "); got != "llm:ok tool:ok llm:ok" {
		t.Errorf("live call backs %q, want the model, the tool, the model", got)
	}
	if cb := sts[0].CallBacks; len(cb) != 2 || cb[0].Type != "llm" || cb[1].Type != "tool" || len(sts[1].CallBacks) != 1 {
		t.Errorf("steps' call backs %+v, %+v", sts[0].CallBacks, sts[1].CallBacks)
	}
	runs, _, err := st.Store.FindRuns(context.Background(), store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var tool *store.Run
	for i := range runs {
		if runs[i].PluginID == "plugboard/gotools" && runs[i].Tool == "stream_text" {
			tool = &runs[i]
		}
	}
	if tool == nil || tool.Status != store.RunDone || tool.Username != "alice" || tool.CredentialID != ids[1] {
		t.Fatalf("the strategy's tool run: %+v, want done for alice with credential %d (the session context's)", tool, ids[1])
	}
}
