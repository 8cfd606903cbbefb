package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// mustAgentExamples is a folder of the packed demo model and gotools.
func mustAgentExamples(tb testing.TB) string {
	tb.Helper()
	return mustExamples(tb, "demo_model", "gotools")
}

// TestAgentPlayground builds an agent from the demo model and three of
// gotools' tools (ticked in the order the page lists them: stream_text,
// json_echo, render_png), runs it, and sees the live stream's tool calls, two
// calls in step 1, one in step 2 and the answer with the image a tool
// made; steps collapse; the run is in the history and exports as JSON.
func TestAgentPlayground(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t, WithExamples(mustAgentExamples(t)))
	br := MustBrowser(t, srv)
	console := watchConsole(br)
	br.CreateOwner()
	installExample(t, br, "plugboard/demo_model")
	installExample(t, br, "plugboard/gotools")

	br.Do("open the agent playground from the nav", chromedp.Click(tid("nav-agent")), chromedp.WaitVisible(tid("agent-form")))
	if v := Eval[string](br, `document.querySelector('[data-testid="input-agent-model"]').value`); v != "plugboard/demo_model|demo_model|demo-chat" {
		t.Errorf("the model picker holds %q", v)
	}
	if d := Eval[string](br, `document.querySelector('[data-testid="agent-tool"][data-tool="plugboard/gotools:gotools:stream_text"] [data-testid="agent-tool-params"]').textContent`); !strings.Contains(d, "text") || !strings.Contains(d, "delay_ms") {
		t.Errorf("stream_text's parameters read %q", d)
	}
	for _, tool := range []string{"json_echo", "stream_text", "render_png"} {
		br.Do("tick "+tool, chromedp.Click(tid("tick-"+tool)))
	}
	br.Fill(map[string]string{"input-agent-instructions": "Use every tool.", "input-agent-query": "hello agent"})
	br.Do("run the agent", chromedp.Click(tid("agent-run-button")), chromedp.WaitVisible(`[data-testid="agent-run"][data-status="done"]`))

	steps := Eval[[]int](br, `[...document.querySelectorAll('[data-testid="agent-step"]')].map(s => s.querySelectorAll('[data-testid="agent-call"]').length)`)
	if len(steps) != 3 || steps[0] != 2 || steps[1] != 1 || steps[2] != 0 {
		t.Fatalf("tool calls per step: %v, want [2 1 0]", steps)
	}
	names := Eval[[]string](br, `[...document.querySelectorAll('[data-testid="agent-call"]')].map(c => c.dataset.name + ":" + c.dataset.status)`)
	if strings.Join(names, " ") != "stream_text:done json_echo:done render_png:done" {
		t.Errorf("calls %v", names)
	}
	if args := br.Text("agent-call-args"); args != `{"text":"hello agent"}` {
		t.Errorf("the first call's arguments read %q", args)
	}
	if seen := Eval[string](br, `document.querySelector('[data-testid="agent-run"]').dataset.seenCalls || ""`); seen != "3" {
		t.Errorf("the live stream showed %q tool calls, want 3", seen)
	}
	if a := br.Text("agent-answer"); !strings.HasPrefix(a, "Demo model — not a real LLM. The tools answered: stream_text: hello agent; json_echo: ") {
		t.Errorf("the answer reads %q", a)
	}
	if !Eval[bool](br, `(() => { const i = document.querySelector('[data-testid="agent-files"] img'); return !!i && i.complete && i.naturalWidth > 0 })()`) {
		t.Error("the image render_png made is not shown with the answer")
	}
	if timing := br.Text("agent-step-timing"); !strings.Contains(timing, "tokens") || !strings.Contains(timing, "tools") {
		t.Errorf("step 1's timing reads %q", timing)
	}
	console.check(t, "agent run")
	br.Shoot("agent-run")

	// Steps are collapsible.
	br.Do("collapse step 1", chromedp.Click(`[data-testid="agent-step"][data-step="1"] > summary`))
	if Eval[bool](br, `document.querySelector('[data-testid="agent-step"][data-step="1"]').open`) {
		t.Error("step 1 did not collapse")
	}
	// History and export.
	id := Eval[string](br, `document.querySelector('[data-testid="agent-run"]').dataset.runId`)
	if n := Eval[int](br, `document.querySelectorAll('[data-testid="agent-history-item"][data-run-id="`+id+`"]').length`); n != 1 {
		t.Errorf("the run is %d times in the history", n)
	}
	if st := Eval[string](br, `document.querySelector('[data-testid="agent-history-item"] .badge').textContent`); st != "done" {
		t.Errorf("the history shows the run %q", st)
	}
	exported := Eval[[]int](br, `fetch(document.querySelector('[data-testid="agent-export"]').href).then(r => r.json()).then(j =>
		[j.steps.length, j.steps[0].tool_calls.length, j.steps[1].tool_calls.length, j.status === "done" ? 1 : 0, j.spec.tools.length])`)
	if len(exported) != 5 || exported[0] != 3 || exported[1] != 2 || exported[2] != 1 || exported[3] != 1 || exported[4] != 3 {
		t.Errorf("the export holds %v, want [3 2 1 1 3]", exported)
	}
	// Re-run starts the same agent again.
	br.Do("re-run", chromedp.Click(tid("agent-rerun")),
		chromedp.WaitVisible(`[data-testid="agent-run"][data-status="done"]:not([data-run-id="`+id+`"])`))
	if again := Eval[string](br, `document.querySelector('[data-testid="agent-run"]').dataset.runId`); again == id || br.Count("agent-history-item") != 2 {
		t.Errorf("re-run shows run %s (was %s), history %d", again, id, br.Count("agent-history-item"))
	}
	console.check(t, "agent re-run")

	// The next message continues the conversation.
	again := Eval[string](br, `document.querySelector('[data-testid="agent-run"]').dataset.runId`)
	br.Fill(map[string]string{"input-agent-query": "and once more"})
	br.Do("continue the conversation", chromedp.Click(tid("agent-run-button")),
		chromedp.WaitVisible(`[data-testid="agent-run"][data-status="done"]:not([data-run-id="`+again+`"])`))
	turns := Eval[[]string](br, `[...document.querySelectorAll('[data-testid="agent-earlier-turn"]')].map(p => p.dataset.role)`)
	if strings.Join(turns, " ") != "user assistant" || br.Text("agent-query") != "You: and once more" {
		t.Errorf("earlier turns %v, message %q", turns, br.Text("agent-query"))
	}

	// Cancel reaches the running tool: stream_text takes 50 ms a word.
	br.Open("/agent", "agent-form")
	br.Do("tick stream_text", chromedp.Click(tid("tick-stream_text")))
	br.Fill(map[string]string{"input-agent-query": strings.Repeat("word ", 300)})
	br.Do("run a long agent", chromedp.Click(tid("agent-run-button")),
		chromedp.WaitVisible(`[data-testid="agent-call"][data-name="stream_text"] [data-testid="agent-call-output"]:not(:empty)`))
	br.Do("cancel", chromedp.Click(tid("agent-cancel")), chromedp.WaitVisible(`[data-testid="agent-run"][data-status="cancelled"]`))
	if st := Eval[string](br, `document.querySelector('[data-testid="agent-call"]').dataset.status`); st != "error" {
		t.Errorf("the cancelled call ended %q", st)
	}
	if o := br.Text("agent-call-output"); !strings.Contains(o, "cancelled") {
		t.Errorf("the cancelled call's observation reads %q", o)
	}
	console.check(t, "agent cancel")
}
