package e2e_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plugboard/plugboard/app/apptest"
)

// TestModelsHistory chats with the demo model and with a customizable
// model priced by the admin (its parameter form coming from the plugin's
// schema), stops a third answer, finds all three in the chat history with
// their latency and price, reopens one, continues it, re-runs a turn of it,
// and deletes one.
func TestModelsHistory(t *testing.T) {
	skipWithoutChromium(t)
	const (
		demo  = "plugboard/demo_model|demo_model|demo-chat"
		llama = "plugboard/openai_compatible|openai_compatible|llama3.1:8b"
	)
	standIn := apptest.OpenAIStandIn(t).URL + "/v1"
	srv := MustServe(t, WithExamples(mustModelExamples(t)))
	br := MustBrowser(t, srv)
	console := watchConsole(br)
	br.CreateOwner()
	installExample(t, br, "plugboard/demo_model")
	installExample(t, br, "plugboard/openai_compatible")
	br.Open("/models/plugboard/openai_compatible/openai_compatible", "custom-model-form")
	br.Fill(map[string]string{"input-model": "llama3.1:8b", "input-endpoint_url": standIn, "input-api_key": apptest.StandInKey,
		"input-input_price": "2", "input-output_price": "8"})
	br.Do("add the model", chromedp.Click(tid("custom-model-submit")),
		chromedp.WaitVisible(`[data-testid="custom-model-row"][data-model="llama3.1:8b"]`))

	params := func(key string) string { return `[data-chat-params="` + key + `"]` }
	setParam := func(key, name, value string) {
		t.Helper()
		if !Eval[bool](br, `(() => { const i = document.querySelector('`+params(key)+` [name="p_`+name+`"]'); if (!i) return false; i.value = "`+value+`"; return true })()`) {
			t.Fatalf("%s has no parameter %s", key, name)
		}
	}
	answered := func(n int) {
		t.Helper()
		br.Do("the answer", chromedp.WaitVisible(`[data-testid="chat-turn"][data-role="assistant"]:nth-of-type(`+strconv.Itoa(2*n)+`)[data-state="done"]`))
	}

	// 1. The demo model, free by its declaration.
	br.Open("/models/chat?model="+url.QueryEscape(demo), "chat-form")
	setParam(demo, "delay_ms", "0")
	br.Fill(map[string]string{"input-chat-message": "hello history"})
	br.Do("send to the demo", chromedp.Click(tid("chat-send")))
	answered(1)
	if st := br.Text("chat-status"); !strings.Contains(st, "finish: stop") || !strings.Contains(st, "0 USD") || !strings.Contains(st, "first token") {
		t.Errorf("the demo's status %q lacks its price or latency", st)
	}

	// 2. A new chat with the customizable model: its parameters are the
	// schema's, max tokens bounded by its credentials (4096 by default).
	br.Do("a new chat", chromedp.Click(tid("chat-clear")))
	choose(br, "input-chat-model", llama)
	if !Eval[bool](br, `(() => { const f = document.querySelector('`+params(llama)+`'); return !f.hidden && !f.disabled &&
		f.querySelector('input[name="p_max_tokens"][max="4096"]') !== null && f.querySelector('input[name="p_temperature"][max="1"]') !== null })()`) {
		t.Fatal("the customizable model's parameter form is not shown from its schema")
	}
	setParam(llama, "temperature", "0.4")
	br.Fill(map[string]string{"input-chat-system": "Be brief.", "input-chat-message": "Say hello"})
	br.Do("send to llama", chromedp.Click(tid("chat-send")))
	answered(1)
	if st := br.Text("chat-status"); !strings.Contains(st, "14 tokens") || !strings.Contains(st, "0.000046 USD") {
		t.Errorf("llama's status %q: 11 tokens in at 2 and 3 out at 8 USD per million are 0.000046 USD", st)
	}
	br.Shoot("models-chat-priced")

	// 3. A slow demo answer, stopped after its first piece.
	br.Do("a new chat", chromedp.Click(tid("chat-clear")))
	choose(br, "input-chat-model", demo)
	setParam(demo, "delay_ms", "1000")
	// Thirty words are ten chunks a second apart: time enough to stop.
	br.Fill(map[string]string{"input-chat-message": strings.Repeat("one two three four five six seven eight nine ten ", 3)})
	br.Do("send a slow one", chromedp.Click(tid("chat-send")),
		chromedp.WaitVisible(`[data-role="assistant"][data-state="streaming"] [data-testid="chat-text"]:not(:empty)`))
	br.Do("stop it", chromedp.Click(tid("chat-stop")), chromedp.WaitVisible(`[data-role="assistant"][data-state="stopped"]`))

	// The history lists the three, latest first, with latency and price.
	// The stopped turn is recorded once the server has seen the browser
	// go away, which may come after the page shows it stopped: the list is
	// read again until every chat has its ending.
	var rows []map[string]string
	for deadline := time.Now().Add(step); ; {
		br.Open("/models/chats", "chat-list")
		rows = Eval[[]map[string]string](br, `[...document.querySelectorAll('[data-testid="chat-row"]')].map(r => ({
			status: r.dataset.status, id: r.dataset.chat,
			model: r.querySelector('[data-testid="chat-link"]').textContent,
			latency: r.querySelector('[data-testid="chat-latency"]').textContent,
			price: r.querySelector('[data-testid="chat-price"]').textContent}))`)
		if slices.IndexFunc(rows, func(r map[string]string) bool { return r["status"] == "" }) < 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(rows) != 3 {
		t.Fatalf("the history lists %d chats, want 3: %v", len(rows), rows)
	}
	for _, r := range rows {
		if !strings.Contains(r["latency"], "first token") || !strings.Contains(r["latency"], "total") {
			t.Errorf("chat %v: no latency", r)
		}
	}
	if rows[0]["status"] != "stopped" || rows[1]["price"] != "0.000046 USD" || !strings.HasPrefix(rows[1]["model"], "llama3.1:8b") ||
		rows[2]["price"] != "0 USD" || rows[2]["status"] != "done" {
		t.Errorf("history rows %v", rows)
	}
	noOverflow(br, "chat history")
	br.Shoot("models-chats")

	// Reopen llama's chat: its turn with parameters, price and latency.
	br.Do("open llama's chat", chromedp.Click(`[data-testid="chat-row"][data-chat="`+rows[1]["id"]+`"] [data-testid="chat-link"]`),
		chromedp.WaitVisible(tid("chat-view")))
	if got := br.Text("chat-view-text"); got != "Hello world" {
		t.Errorf("the recorded answer %q", got)
	}
	if p := br.Text("chat-view-params"); !strings.Contains(p, "temperature=0.4") {
		t.Errorf("the recorded parameters %q", p)
	}
	if l := br.Text("chat-view-latency"); !strings.Contains(l, "first token") {
		t.Errorf("the recorded latency %q", l)
	}
	if Eval[bool](br, `document.body.innerHTML.includes("Sup3rSecret")`) {
		t.Error("the chat's page holds the key")
	}
	br.Shoot("models-chat-view")

	// Continue it: the conversation, model, system prompt and parameters
	// come back, and the next turn is added to the same chat.
	br.Do("continue", chromedp.Click(tid("chat-continue")), chromedp.WaitVisible(tid("chat-form")))
	if n := br.Count("chat-turn"); n != 2 || Eval[string](br, `document.querySelector('[data-testid="input-chat-model"]').value`) != llama ||
		Eval[string](br, `document.querySelector('`+params(llama)+` [name="p_temperature"]').value`) != "0.4" ||
		Eval[string](br, `document.querySelector('[data-testid="input-chat-system"]').value`) != "Be brief." {
		t.Fatalf("the continued chat shows %d turns and not its settings", n)
	}
	br.Fill(map[string]string{"input-chat-message": "Once more"})
	br.Do("send on", chromedp.Click(tid("chat-send")))
	answered(2)
	br.Open("/models/chats/"+rows[1]["id"], "chat-view")
	if n := br.Count("chat-view-answer"); n != 2 {
		t.Errorf("the continued chat holds %d turns, want 2", n)
	}
	if p := br.Text("chat-total-price"); p != "0.000092 USD" {
		t.Errorf("the chat's total price %q", p)
	}

	// Re-run its second turn: a new chat with the first turn as context and
	// the message filled in.
	br.Do("re-run the second turn", chromedp.Click(`[data-testid="chat-view-answer"]:nth-of-type(4) [data-testid="chat-rerun"]`),
		chromedp.WaitVisible(tid("chat-form")))
	if n := br.Count("chat-turn"); n != 2 || Eval[string](br, `document.querySelector('[data-testid="chat-id"]').value`) != "" ||
		Eval[string](br, `document.querySelector('[data-testid="input-chat-message"]').value`) != "Once more" {
		t.Fatalf("the re-run shows %d turns, or continues the old chat, or lacks the message", n)
	}
	br.Do("send the re-run", chromedp.Click(tid("chat-send")))
	answered(2)

	// Delete the stopped chat.
	br.Open("/models/chats/"+rows[0]["id"], "chat-view")
	if s := Eval[string](br, `document.querySelector('[data-testid="chat-view-answer"]').dataset.status`); s != "stopped" {
		t.Errorf("the stopped turn is recorded %q", s)
	}
	Eval[bool](br, `(() => { window.confirm = () => true; return true })()`)
	br.Do("delete it", chromedp.Click(tid("chat-delete")), chromedp.WaitVisible(tid("chat-list")))
	if n := br.Count("chat-row"); n != 3 {
		t.Errorf("after deleting, %d chats", n)
	}
	console.check(t, "chat history")
}
