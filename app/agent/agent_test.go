package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/agent"
	"github.com/plugboard/plugboard/app/apptest"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
)

// Env is the agent over a real daemon running the demo model and gotools,
// on a fresh store.
type Env struct {
	Svc    *agent.Service
	Invoke *invoke.Service
	Store  *store.DB
	User   *store.User
	Daemon *client.Client
	Creds  *store.Credentials
}

// MustEnv starts it all; the services close at the test's end, the agent
// first.
func MustEnv(tb testing.TB) *Env { tb.Helper(); return MustEnvWith(tb, nil) }

// MustEnvWith is MustEnv with changes to the agent's configuration.
func MustEnvWith(tb testing.TB, configure func(*agent.Config)) *Env {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds and runs the demo model and gotools under a daemon")
	}
	cl := apptest.MustDaemon(tb)
	apptest.MustInstallExample(tb, cl, "demo_model")
	apptest.MustInstallExample(tb, cl, "gotools")
	db := apptest.MustStore(tb)
	keys, err := secret.Open(context.Background(), tb.TempDir(), "", db)
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	inv := invoke.New(invoke.Config{Store: db, Daemon: cl, Keys: keys, Logger: logger})
	ms := models.New(models.Config{Store: db, Daemon: cl, Keys: keys, Logger: logger})
	cfg := agent.Config{Store: db, Models: ms, Invoke: inv, Daemon: cl, Logger: logger}
	if configure != nil {
		configure(&cfg)
	}
	svc := agent.New(cfg)
	tb.Cleanup(func() { svc.Close(); inv.Close() })
	return &Env{Svc: svc, Invoke: inv, Store: db, User: apptest.MustUser(tb, db, "ann", store.RoleMember), Daemon: cl,
		Creds: db.Credentials(keys)}
}

var demoChat = models.ModelRef{PluginID: "plugboard/demo_model", Provider: "demo_model", Model: "demo-chat"}

// request asks the demo model with gotools' tools.
func (env *Env) request(query string, tools ...string) agent.Request {
	req := agent.Request{Caller: invoke.Caller{UserID: env.User.ID, Username: env.User.Username},
		Spec: agent.Spec{Model: demoChat, Query: query, Instructions: "Use the tools.", Parameters: map[string]any{"delay_ms": 0}}}
	for _, t := range tools {
		req.Tools = append(req.Tools, agent.ToolRef{PluginID: "plugboard/gotools", Provider: "gotools", Tool: t})
	}
	return req
}

// events collects a run's events.
type events struct {
	mu  sync.Mutex
	evs []agent.Event
}

func (e *events) add(ev agent.Event) { e.mu.Lock(); e.evs = append(e.evs, ev); e.mu.Unlock() }

// MustRun runs req to its end and returns the run with its decoded steps.
func (env *Env) MustRun(tb testing.TB, req agent.Request) (*store.AgentRun, []agent.Step, []agent.Event) {
	tb.Helper()
	var evs events
	r, err := env.Svc.Run(context.Background(), req, evs.add)
	if err != nil {
		tb.Fatal(err)
	}
	return r, steps(tb, r), evs.evs
}

func steps(tb testing.TB, r *store.AgentRun) []agent.Step {
	tb.Helper()
	out := make([]agent.Step, len(r.Steps))
	for i, raw := range r.Steps {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

func callNames(st agent.Step) string {
	var names []string
	for _, c := range st.Calls {
		names = append(names, c.Name+":"+c.Status)
	}
	return strings.Join(names, ",")
}

func TestAgent(t *testing.T) {
	env := MustEnv(t)
	t.Run("OKTwoToolsThenOneThenTheAnswer", func(t *testing.T) {
		r, st, evs := env.MustRun(t, env.request("hello agent", "json_echo", "stream_text", "render_png"))
		if r.Status != store.RunDone || len(st) != 3 {
			t.Fatalf("run %s %q, %d steps", r.Status, r.Error, len(st))
		}
		if callNames(st[0]) != "json_echo:done,stream_text:done" || callNames(st[1]) != "render_png:done" || len(st[2].Calls) != 0 {
			t.Fatalf("calls: %q then %q then %q", callNames(st[0]), callNames(st[1]), callNames(st[2]))
		}
		if st[0].Calls[0].Arguments != `{"payload":"hello agent"}` || st[0].Calls[1].Observation != "hello agent" {
			t.Fatalf("step 1: %+v %+v", st[0].Calls[0], st[0].Calls[1])
		}
		png := st[1].Calls[0]
		if len(png.Files) != 1 || png.Files[0].MIME != "image/png" || !strings.HasPrefix(png.Files[0].URL, "/playground/runs/"+png.RunID+"/files/") {
			t.Fatalf("render_png's file: %+v", png)
		}
		want := `Demo model — not a real LLM. The tools answered: json_echo: {"payload":"hello agent"}; stream_text: hello agent; render_png: image has been created`
		if !strings.HasPrefix(r.Answer, want) || st[2].Text != r.Answer {
			t.Fatalf("answer %q", r.Answer)
		}
		for _, s := range st {
			if s.Usage == nil || s.Usage.TotalTokens == 0 || s.TookMS < s.ModelMS+s.ToolsMS || s.LoopMS < 0 {
				t.Fatalf("step %d usage/timings: %+v", s.N, s)
			}
		}
		if r.TotalTokens != st[0].Usage.TotalTokens+st[1].Usage.TotalTokens+st[2].Usage.TotalTokens {
			t.Fatalf("total tokens %d", r.TotalTokens)
		}
		// The tool calls are tool runs of the user's, through app/invoke.
		tr, err := env.Store.FindRun(context.Background(), st[0].Calls[1].RunID)
		if err != nil || tr.Tool != "stream_text" || tr.UserID != env.User.ID || tr.Status != store.RunDone {
			t.Fatalf("tool run %+v %v", tr, err)
		}
		// Events: each call starts (with its arguments) before it ends, and
		// the stream ends with the answer.
		var kinds []string
		for _, ev := range evs {
			if ev.Type == agent.EventToolCall && ev.Call.Arguments == "" {
				t.Fatalf("call started without arguments: %+v", ev.Call)
			}
			if ev.Type != agent.EventText && ev.Type != agent.EventToolOutput {
				kinds = append(kinds, ev.Type)
			}
		}
		got := strings.Join(kinds, " ")
		if !strings.HasPrefix(got, "step tool_call tool_call") || !strings.HasSuffix(got, "step step_done end") ||
			strings.Count(got, "tool_call") != 3 || strings.Count(got, "tool_result") != 3 || evs[len(evs)-1].End.Answer != r.Answer {
			t.Fatalf("events: %s", got)
		}
	})
	t.Run("OKUnknownToolToldBack", func(t *testing.T) {
		r, st, _ := env.MustRun(t, env.request("call nosuch {}", "json_echo"))
		if r.Status != store.RunDone || len(st) != 2 || callNames(st[0]) != "nosuch:error" ||
			!strings.Contains(r.Answer, "there is not a tool named nosuch; the tools are: json_echo") {
			t.Fatalf("run %s %q steps %d, answer %q", r.Status, r.Error, len(st), r.Answer)
		}
	})
	t.Run("OKInvalidArgumentsToldBack", func(t *testing.T) {
		r, st, _ := env.MustRun(t, env.request("call json_echo {not json", "json_echo"))
		if r.Status != store.RunDone || len(st) != 2 || callNames(st[0]) != "json_echo:error" || st[0].Calls[0].RunID != "" ||
			!strings.Contains(r.Answer, "tool parameters validation error: the arguments are not a JSON object") {
			t.Fatalf("run %s steps %d, answer %q", r.Status, len(st), r.Answer)
		}
	})
	t.Run("OKParametersRefusedToldBack", func(t *testing.T) {
		r, st, _ := env.MustRun(t, env.request(`call json_echo {"other":1}`, "json_echo"))
		if r.Status != store.RunDone || callNames(st[0]) != "json_echo:error" ||
			!strings.Contains(st[0].Calls[0].Observation, "tool parameters validation error: ") {
			t.Fatalf("run %s, call %+v", r.Status, st[0].Calls[0])
		}
	})
	t.Run("OKToolSecretsRedactedEverywhere", func(t *testing.T) {
		const key = "demo-Sup3rSecretKey"
		c, err := env.Creds.CreateCredential(context.Background(), "ann", store.CredentialInput{PluginID: "plugboard/gotools",
			Provider: "gotools", Name: "mine", Secrets: map[string]string{"api_key": key}})
		if err != nil {
			t.Fatal(err)
		}
		req := env.request(`call whoami {"reveal":true}`, "whoami")
		req.Tools[0].CredentialID = c.ID
		var seen strings.Builder
		r, err := env.Svc.Run(context.Background(), req, func(ev agent.Event) {
			b, _ := json.Marshal(ev)
			seen.Write(b)
		})
		if err != nil {
			t.Fatal(err)
		}
		st := steps(t, r)
		stored, _ := json.Marshal(r)
		if r.Status != store.RunDone || callNames(st[0]) != "whoami:done" || !strings.Contains(st[0].Calls[0].Observation, "[redacted]") {
			t.Fatalf("run %s, call %+v", r.Status, st[0].Calls)
		}
		for what, text := range map[string]string{"events": seen.String(), "stored run": string(stored), "answer": r.Answer} {
			if strings.Contains(text, key) || strings.Contains(text, key[len(key)/2:]) {
				t.Errorf("the %s hold the key: %s", what, text)
			}
		}
		var sp agent.Spec
		if err := sp.Decode(r.Spec); err != nil || sp.Tools[0].CredentialID != c.ID {
			t.Errorf("the spec names credential %+v (%v)", sp.Tools, err)
		}
	})
	t.Run("OKContinuesTheConversation", func(t *testing.T) {
		first, st1, _ := env.MustRun(t, env.request("hello there"))
		var sp agent.Spec
		if err := sp.Decode(first.Spec); err != nil {
			t.Fatal(err)
		}
		req := env.request("")
		req.Spec = sp.Continued(first.Answer, "hello there")
		second, st2, _ := env.MustRun(t, req)
		var sp2 agent.Spec
		_ = sp2.Decode(second.Spec)
		if second.Status != store.RunDone || len(sp2.History) != 2 || sp2.History[1].Text != first.Answer ||
			st2[0].Usage.PromptTokens <= st1[0].Usage.PromptTokens {
			t.Fatalf("history %+v, prompt tokens %d then %d", sp2.History, st1[0].Usage.PromptTokens, st2[0].Usage.PromptTokens)
		}
	})
	t.Run("ErrIterationLimit", func(t *testing.T) {
		req := env.request("go on", "json_echo", "stream_text")
		req.MaxIterations = 2
		r, st, _ := env.MustRun(t, req)
		if r.Status != store.RunFailed || len(st) != 2 || callNames(st[1]) != "json_echo:skipped" ||
			r.Error != "Stopped at the iteration limit (2): the model still asked for json_echo. Raise Maximum iterations to let it go on." {
			t.Fatalf("run %s %q, steps %d %q", r.Status, r.Error, len(st), callNames(st[len(st)-1]))
		}
	})
	t.Run("OKReActAction", func(t *testing.T) {
		// The demo model echoes the user's message, so a message holding an
		// action makes its first turn that action; its next ("continue")
		// has none and is the answer.
		req := env.request("Action:\n```\n{\"action\": \"json_echo\", \"action_input\": {\"payload\": \"{\\\"a\\\":1}\"}}\n```", "json_echo")
		req.Strategy = agent.StrategyReAct
		r, st, _ := env.MustRun(t, req)
		if r.Status != store.RunDone || len(st) != 2 || callNames(st[0]) != "json_echo:done" || st[0].Calls[0].Observation != `{"a":1}` ||
			!strings.Contains(r.Answer, "continue") {
			t.Fatalf("run %s %q steps %d answer %q", r.Status, r.Error, len(st), r.Answer)
		}
	})
	t.Run("ErrRefusedBeforeRecording", func(t *testing.T) {
		for name, req := range map[string]agent.Request{
			"no message":   env.request("  ", "json_echo"),
			"unknown tool": env.request("hi", "nosuch"),
			"bad strategy": func() agent.Request { r := env.request("hi"); r.Strategy = "magic"; return r }(),
			"bad limit":    func() agent.Request { r := env.request("hi"); r.MaxIterations = 99; return r }(),
			"credential":   func() agent.Request { r := env.request("hi", "json_echo"); r.Tools[0].CredentialID = 99; return r }(),
		} {
			before, _ := env.Store.FindAgentRuns(context.Background(), 0, 0)
			_, err := env.Svc.Run(context.Background(), req, nil)
			after, _ := env.Store.FindAgentRuns(context.Background(), 0, 0)
			if err == nil || len(after) != len(before) {
				t.Fatalf("%s: %v, runs %d → %d", name, err, len(before), len(after))
			}
			if code := plugboard.ErrorCode(err); code != plugboard.EINVALID && code != plugboard.ENOTFOUND {
				t.Fatalf("%s: code %s: %v", name, code, err)
			}
		}
	})
	t.Run("OKCancelReachesTheTool", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		long := strings.Repeat("word ", 400) // stream_text: 50 ms a word
		r, err := env.Svc.Run(ctx, env.request(long, "stream_text"), func(ev agent.Event) {
			if ev.Type == agent.EventToolOutput {
				cancel()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		st := steps(t, r)
		if r.Status != store.RunCancelled || len(st) != 1 || callNames(st[0]) != "stream_text:error" {
			t.Fatalf("run %s %q, steps %d %q", r.Status, r.Error, len(st), callNames(st[len(st)-1]))
		}
		tr, err := env.Store.FindRun(context.Background(), st[0].Calls[0].RunID)
		if err != nil || tr.Status != store.RunCancelled {
			t.Fatalf("tool run %+v %v", tr, err)
		}
	})
}

func TestAgentCrashingTool(t *testing.T) {
	env := MustEnv(t)
	r, st, _ := env.MustRun(t, env.request("crash now", "crash"))
	if r.Status != store.RunDone || len(st) != 2 || callNames(st[0]) != "crash:error" ||
		!strings.Contains(st[0].Calls[0].Observation, "tool invoke error: ") || !strings.Contains(r.Answer, "The tool answered: ") {
		t.Fatalf("run %s %q, steps %d, call %+v, answer %q", r.Status, r.Error, len(st), st[0].Calls, r.Answer)
	}
}

func TestAgentToolTimeout(t *testing.T) {
	env := MustEnvWith(t, func(c *agent.Config) { c.ToolTimeout = 300 * time.Millisecond })
	r, st, _ := env.MustRun(t, env.request(strings.Repeat("word ", 400), "stream_text"))
	if r.Status != store.RunDone || len(st) != 2 || callNames(st[0]) != "stream_text:error" ||
		!strings.HasSuffix(st[0].Calls[0].Observation, "tool invoke error: stream_text did not answer within 300ms") ||
		!strings.HasPrefix(st[0].Calls[0].Observation, "word word") {
		t.Fatalf("run %s %q, steps %d, call %+v", r.Status, r.Error, len(st), st[0].Calls)
	}
}

func TestAgentClose(t *testing.T) {
	env := MustEnv(t)
	r, err := env.Svc.Start(context.Background(), env.request(strings.Repeat("word ", 400), "stream_text"))
	if err != nil {
		t.Fatal(err)
	}
	for { // wait until the tool streams
		live, evs, changed, err := env.Svc.Follow(context.Background(), r.ID, 0)
		if err != nil || changed == nil || live != nil {
			t.Fatalf("follow: %v (live: %v, run read from the store: %+v)", err, changed != nil, live)
		}
		if len(evs) > 0 && evs[len(evs)-1].Type == agent.EventToolOutput {
			break
		}
		<-changed
	}
	env.Svc.Close()
	got, err := env.Store.FindAgentRun(context.Background(), r.ID)
	if err != nil || got.Status != store.RunFailed || got.Error != "The agent run was interrupted." {
		t.Fatalf("after Close: %+v %v", got, err)
	}
	if ended, evs, changed, err := env.Svc.Follow(context.Background(), r.ID, 0); err != nil || changed != nil || len(evs) != 0 ||
		ended == nil || ended.Status != store.RunFailed {
		t.Fatalf("follow after Close: %+v %d events, live %v, %v", ended, len(evs), changed != nil, err)
	}
	if _, err := env.Svc.Start(context.Background(), env.request("hi", "stream_text")); plugboard.ErrorCode(err) != plugboard.EUNAVAILABLE {
		t.Fatalf("start after Close: %v", err)
	}
}

// TestAgentStrategyPlugin runs a strategy of an agent-strategy plugin
// (testdata/pystrategy, which reports what it was given in Dify's
// strategy messages): Dify's parameters reach it and its rounds become
// the run's steps.
func TestAgentStrategyPlugin(t *testing.T) {
	env := MustEnv(t)
	apptest.MustInstallDir(t, env.Daemon, "app/agent/testdata/pystrategy")
	all, err := env.Svc.Strategies(context.Background())
	if err != nil || len(all) != 1 || all[0].Key() != "plugin:plugboard/pystrategy:echo:report" || all[0].Label != "Report — Echo strategies" {
		t.Fatalf("strategies %+v %v", all, err)
	}
	req := env.request("what now", "json_echo", "stream_text")
	req.Strategy, req.Plugin, req.MaxIterations = agent.StrategyPlugin, &all[0], 4
	r, st, _ := env.MustRun(t, req)
	want := "model plugboard/demo_model/demo_model/demo-chat (llm); tools json_echo@plugboard/gotools/gotools,stream_text@plugboard/gotools/gotools; " +
		"query what now; instruction Use the tools.; at most 4 iterations"
	if r.Status != store.RunDone || len(st) != 2 || r.Answer != want || r.TotalTokens != 30 || st[1].N != 2 {
		t.Fatalf("run %s %q, %d steps, answer %q, tokens %d", r.Status, r.Error, len(st), r.Answer, r.TotalTokens)
	}
	t.Run("ErrUnknownStrategy", func(t *testing.T) {
		req.Plugin = &agent.StrategyRef{PluginID: "plugboard/pystrategy", Provider: "echo", Strategy: "nope"}
		if _, err := env.Svc.Run(context.Background(), req, nil); plugboard.ErrorCode(err) != plugboard.ENOTFOUND {
			t.Fatalf("got %v", err)
		}
		// The daemon refuses it too, naming the strategies there are.
		_, err := env.Daemon.InvokeAgentStrategy(context.Background(), "plugboard/pystrategy",
			apispec.InvokeRequest[apispec.InvokeAgentStrategyData]{UserID: "ann",
				Data: apispec.InvokeAgentStrategyData{AgentStrategyProvider: "echo", AgentStrategy: "nope"}})
		if plugboard.ErrorCode(err) != plugboard.ENOTFOUND || !strings.Contains(err.Error(), "its strategies: report") {
			t.Fatalf("daemon: %v", err)
		}
	})
}
