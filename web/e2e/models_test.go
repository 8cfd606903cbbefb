package e2e_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/plugboard/plugboard/app/apptest"
)

// mustModelExamples is a folder of the packed model examples.
func mustModelExamples(tb testing.TB) string {
	tb.Helper()
	return mustExamples(tb, "demo_model", "openai_compatible")
}

// choose sets a select as a user would, firing its change event, once the
// page's deferred scripts have run.
func choose(b *Browser, id, value string) {
	b.tb.Helper()
	Eval[bool](b, `new Promise(r => document.readyState === "complete" ? r(true) : addEventListener("load", () => r(true)))`)
	ok := Eval[bool](b, `(() => { const s = document.querySelector('[data-testid="`+id+`"]'); s.value = `+strconv.Quote(value)+`;
		s.dispatchEvent(new Event("change", {bubbles: true})); return s.value === `+strconv.Quote(value)+` })()`)
	if !ok {
		b.tb.Fatalf("%s has no option %q", id, value)
	}
}

// TestModels installs both model examples, looks at their models, adds a
// customizable model pointing at a stand-in OpenAI server (the form's
// show_on fields following the model type), sets it and the demo's
// embedding model as defaults, and sees them listed.
func TestModels(t *testing.T) {
	skipWithoutChromium(t)
	standIn := apptest.OpenAIStandIn(t).URL + "/v1"
	srv := MustServe(t, WithExamples(mustModelExamples(t)))
	br := MustBrowser(t, srv)
	console := watchConsole(br)
	br.CreateOwner()
	installExample(t, br, "plugboard/demo_model")
	installExample(t, br, "plugboard/openai_compatible")

	demo := `[data-testid="model-provider"][data-provider="plugboard/demo_model/demo_model"]`
	openai := `[data-testid="model-provider"][data-provider="plugboard/openai_compatible/openai_compatible"]`
	br.Do("open Models from the nav", chromedp.Click(tid("nav-models")), chromedp.WaitVisible(demo))
	if n := Eval[int](br, `document.querySelectorAll('`+demo+` [data-testid="model-row"]').length`); n != 6 {
		t.Errorf("demo_model lists %d models, want 6 (chat, embedding, rerank, tts, speech2text, moderation)", n)
	}
	if ctx := Eval[string](br, `document.querySelector('`+demo+` [data-model="demo-chat"] [data-testid="context-size"]').textContent`); ctx != "4096" {
		t.Errorf("demo-chat context size %q", ctx)
	}
	if !Eval[bool](br, `document.querySelector('`+demo+` img.plugin-icon').naturalWidth > 0`) {
		t.Error("the demo provider's icon did not load")
	}

	br.Do("open openai_compatible's page", chromedp.Click(openai+` [data-testid="manage-models"]`), chromedp.WaitVisible(tid("custom-model-form")))
	hidden := func(field string) bool {
		return Eval[bool](br, `document.querySelector('[data-testid="field-`+field+`"]').hidden`)
	}
	if !hidden("rerank_endpoint_url") || hidden("function_calling_type") {
		t.Fatal("for an LLM the rerank URL should be hidden and function calling shown")
	}
	choose(br, "input-model_type", "rerank")
	if hidden("rerank_endpoint_url") || !hidden("function_calling_type") {
		t.Fatal("after picking rerank the fields did not follow")
	}
	choose(br, "input-model_type", "llm")
	br.Fill(map[string]string{"input-model": "llama3.1:8b", "input-endpoint_url": standIn, "input-api_key": apptest.StandInKey})
	br.Do("add the model", chromedp.Click(tid("custom-model-submit")),
		chromedp.WaitVisible(`[data-testid="custom-model-row"][data-model="llama3.1:8b"]`))
	if v := br.Text("value-api_key"); strings.Contains(v, "Sup3rSecret") || v == "" {
		t.Errorf("the key is shown as %q", v)
	}
	console.check(t, "provider page")
	br.Shoot("models-provider")

	br.Open("/models", "default-models")
	choose(br, "input-default_llm", "plugboard/openai_compatible|openai_compatible|llama3.1:8b")
	choose(br, "input-default_text-embedding", "plugboard/demo_model|demo_model|demo-embedding")
	br.Do("save defaults", chromedp.Click(tid("save-defaults")), chromedp.WaitVisible(tid("flash-success")))
	if v := Eval[string](br, `document.querySelector('[data-testid="input-default_llm"]').value`); v != "plugboard/openai_compatible|openai_compatible|llama3.1:8b" {
		t.Errorf("default LLM after saving: %q", v)
	}
	if n := Eval[int](br, `document.querySelectorAll('`+openai+` [data-testid="custom-model"][data-model="llama3.1:8b"]').length`); n != 1 {
		t.Error("the customizable model is not listed on the Models page")
	}
	if Eval[bool](br, `document.body.innerHTML.includes("Sup3rSecret")`) {
		t.Error("the Models page holds the key")
	}
	noOverflow(br, "models page")
	console.check(t, "models pages")
	br.Shoot("models")
	shootElement(br, "models-defaults", `[data-testid="default-models"]`)

	// The chat preselects the default LLM and streams its answer in.
	br.Do("open the chat", chromedp.Click(tid("open-chat")), chromedp.WaitVisible(tid("chat-form")))
	if v := Eval[string](br, `document.querySelector('[data-testid="input-chat-model"]').value`); v != "plugboard/openai_compatible|openai_compatible|llama3.1:8b" {
		t.Errorf("the chat preselects %q, not the default LLM", v)
	}
	br.Fill(map[string]string{"input-chat-system": "Be brief.", "input-chat-message": "Say hello"})
	br.Do("send", chromedp.Click(tid("chat-send")),
		chromedp.WaitVisible(`[data-testid="chat-turn"][data-role="assistant"][data-state="done"]`))
	if got := Eval[string](br, `document.querySelector('[data-role="assistant"] [data-testid="chat-text"]').textContent`); got != "Hello world" {
		t.Errorf("the answer reads %q", got)
	}
	if st := br.Text("chat-status"); !strings.Contains(st, "finish: stop") || !strings.Contains(st, "14 tokens") {
		t.Errorf("chat status %q", st)
	}
	// A second turn with the demo model: several pieces reach the page
	// before the end.
	choose(br, "input-chat-model", "plugboard/demo_model|demo_model|demo-chat")
	if !Eval[bool](br, `document.querySelector('[data-testid="param-delay_ms"]').offsetParent !== null`) {
		t.Error("the demo's parameters are not shown once it is picked")
	}
	Eval[bool](br, `(() => { window.__steps = []; const log = document.querySelector('[data-testid="chat-log"]');
		new MutationObserver(() => { const a = [...log.querySelectorAll('[data-role="assistant"]')].pop();
			if (a) window.__steps.push(a.textContent.length) }).observe(log, {subtree: true, childList: true, characterData: true}); return true })()`)
	br.Fill(map[string]string{"input-chat-message": "And again?"})
	br.Do("send again", chromedp.Click(tid("chat-send")),
		chromedp.WaitVisible(`[data-testid="chat-turn"][data-role="assistant"]:nth-of-type(4)[data-state="done"]`))
	if steps := Eval[[]int](br, `[...new Set(window.__steps)]`); len(steps) < 3 {
		t.Errorf("the demo's answer arrived in %d DOM steps, want several: %v", len(steps), steps)
	}
	if Eval[bool](br, `document.querySelector('[data-testid="chat-stop"]').offsetParent !== null`) {
		t.Error("Stop is shown with no answer streaming")
	}
	if n := br.Count("chat-turn"); n != 4 {
		t.Errorf("%d turns after two exchanges", n)
	}
	console.check(t, "chat")
	br.Shoot("models-chat")

	// Try the demo's embedding model from its Try link: the texts'
	// dimensions and similarity table come back in the page.
	br.Open("/models", "default-models")
	br.Do("try the embedding model", chromedp.Click(`[data-type="text-embedding"] [data-model="demo-embedding"] [data-testid="try-model"]`),
		chromedp.WaitVisible(tid("try-form")))
	br.Fill(map[string]string{"input-try-texts": "red apple\nred apple pie\nblue sky"})
	br.Do("embed", chromedp.Click(tid("try-submit")), chromedp.WaitVisible(tid("try-embedding")))
	if d := br.Text("try-dimensions"); !strings.Contains(d, "64 dimensions") {
		t.Errorf("embedding answer %q", d)
	}
	if n := br.Count("try-similarity-cell"); n != 9 {
		t.Errorf("%d similarity cells for 3 texts", n)
	}
	noOverflow(br, "embedding tryout")
	br.Shoot("models-try-embedding")
	// An empty submission is refused in the form.
	br.Fill(map[string]string{"input-try-texts": " "})
	br.Do("embed nothing", chromedp.Click(tid("try-submit")), chromedp.WaitVisible(`[data-testid="try-form"] [role="alert"]`))

	// Rerank: the documents come back ranked, the best match first.
	br.Open("/models", "default-models")
	br.Do("try the rerank model", chromedp.Click(`[data-type="rerank"] [data-model="demo-rerank"] [data-testid="try-model"]`),
		chromedp.WaitVisible(tid("try-form")))
	br.Fill(map[string]string{"input-try-query": "red apple", "input-try-docs": "blue sky\na red apple\nred car"})
	br.Do("rerank", chromedp.Click(tid("try-submit")), chromedp.WaitVisible(tid("try-ranked")))
	if got := Eval[string](br, `document.querySelector('[data-testid="try-ranked-text"]').textContent`); got != "a red apple" {
		t.Errorf("the best match is %q", got)
	}
	console.check(t, "tryouts")
	br.Shoot("models-try-rerank")
}
