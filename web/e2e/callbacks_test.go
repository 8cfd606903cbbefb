package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// mustExamples copies packed examples (make writes them to dist/) into a
// folder of one-click examples.
func mustExamples(tb testing.TB, names ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, name := range names {
		data, err := os.ReadFile("../../dist/" + name + ".difypkg")
		if err != nil {
			tb.Fatalf("%v: run make first", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".difypkg"), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// TestCallbacks uploads the callbacks example and reads in its preview what
// it may call back for, installs it beside demo_model (the default LLM)
// and gotools, runs its tour in the playground — storage, a summary, an LLM
// answer, another tool's output and a file upload, through the embedded
// daemon and the app's inner API — and downloads the file from the link in
// the output; each call back is listed among the run's events. Then an
// agent calls the tour, and its tool call lists the calls back.
func TestCallbacks(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t, WithExamples(mustExamples(t, "demo_model", "gotools")))
	br := MustBrowser(t, srv)
	console := watchConsole(br)
	br.CreateOwner()
	installExample(t, br, "plugboard/demo_model")
	installExample(t, br, "plugboard/gotools")

	br.Open("/", "plugins-page")
	br.upload(filepath.Join(mustExamples(t, "callbacks"), "callbacks.difypkg"))
	br.Do("preview", chromedp.WaitVisible(tid("install-preview")))
	if got := br.Text("permission-summary"); got != "May call LLMs, other tools, storage up to 1 MiB." {
		t.Fatalf("the preview says %q", got)
	}
	shootElement(br, "callbacks-preview", `[data-testid="install-preview"]`)
	br.Do("install", chromedp.Click(tid("install-submit")), chromedp.WaitVisible(`[data-testid="task-progress"][data-status="success"]`))

	br.Open("/models", "default-models")
	choose(br, "input-default_llm", "plugboard/demo_model|demo_model|demo-chat")
	br.Do("save defaults", chromedp.Click(tid("save-defaults")), chromedp.WaitVisible(tid("flash-success")))

	startRun(br, "plugboard/callbacks:callbacks:tour", map[string]string{"input-text": "hello plugboard"})
	_, final, status := watchUntilEnded(br)
	if status != "done" {
		br.Shoot("callbacks-failed")
		t.Fatalf("the tour ended %s: %q", status, final)
	}
	for _, want := range []string{"storage: tour = 1", "summary: Demo model", "llm: Demo model", "tool: hello plugboard", "file: tour.txt (15 bytes)"} {
		if !strings.Contains(final, want) {
			t.Errorf("the output has no %q: %q", want, final)
		}
	}
	href := Eval[string](br, `(document.querySelector('[data-testid="out-link"] a') || {}).href || ""`)
	if !strings.Contains(href, "/files/plugin/") {
		t.Fatalf("no file link in the output: %q", href)
	}
	// Each call back is a run event: listed beside the output, and in the
	// raw view.
	const kinds = "storage:ok storage:ok system_summary:ok llm:ok tool:ok upload_file:ok"
	out := Eval[[]string](br, `[...document.querySelectorAll('[data-testid="out-call-back"]')].map(e => e.dataset.type + ":" + e.querySelector('[data-testid="call-back-outcome"]').textContent)`)
	if strings.Join(out, " ") != kinds {
		t.Errorf("the output's call backs: %v, want %s", out, kinds)
	}
	if n := Eval[int](br, `document.querySelectorAll('[data-testid="raw-message"][data-type="call_back"] [data-testid="raw-call-back"]').length`); n != 6 {
		t.Errorf("the raw view lists %d call backs, want 6", n)
	}
	shootElement(br, "callbacks-run", `[data-testid="run-page"]`)
	if got := httpGet(t, href); got != "hello plugboard" {
		t.Fatalf("the file link answers %q", got)
	}
	console.check(t, "the callbacks run")

	// An agent's tool call lists the tool's calls back under it, live and
	// as stored.
	br.Open("/agent", "agent-form")
	br.Do("tick tour", chromedp.Click(tid("tick-tour")))
	br.Fill(map[string]string{"input-agent-query": "hello agent"})
	br.Do("run the agent", chromedp.Click(tid("agent-run-button")), chromedp.WaitVisible(`[data-testid="agent-run"][data-status="done"]`))
	// The key exists now: the tour's storage makes a call more.
	const again = "storage:ok storage:ok storage:ok system_summary:ok llm:ok tool:ok upload_file:ok"
	under := Eval[[]string](br, `[...document.querySelectorAll('[data-testid="agent-call"][data-name="tour"] [data-testid="agent-call-back"]')].map(e => e.dataset.type + ":" + e.dataset.outcome)`)
	if strings.Join(under, " ") != again {
		t.Errorf("the tour call's call backs: %v, want %s", under, again)
	}
	if seen := Eval[string](br, `document.querySelector('[data-testid="agent-run"]').dataset.seenCallBacks || ""`); seen != "7" {
		t.Errorf("the live stream showed %q call backs, want 7", seen)
	}
	shootElement(br, "callbacks-agent", `[data-testid="agent-run"]`)
	console.check(t, "the agent calling the tour")
}
