package e2e_test

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
)

const playStream = "plugboard/gotools:gotools:stream_text"

// startRun opens a tool's form, fills it and runs it; it returns on the
// run's page.
func startRun(b *Browser, pick string, fields map[string]string) {
	b.tb.Helper()
	b.Open("/playground?pick="+url.QueryEscape(pick), "tool-form")
	b.Fill(fields)
	b.Do("run "+pick, chromedp.Click(tid("run-submit")), chromedp.WaitVisible(tid("run-page")))
}

// outputAndStatus is the run output's text and the status line's status.
func outputAndStatus(b *Browser) (string, string) {
	v := Eval[[]string](b, `[document.querySelector('[data-testid="run-output"]').textContent,
		document.querySelector('[data-testid="run-status"]').dataset.status]`)
	return v[0], v[1]
}

// watchUntilEnded polls the output until the run ends, and returns the
// distinct non-empty texts seen while it was running and the final one.
func watchUntilEnded(b *Browser) (seen []string, final, status string) {
	seen, _, final, status = watchRun(b)
	return seen, final, status
}

// watchRun polls the run pane until the run ends; it returns the distinct
// non-empty output texts and raw message counts seen while it was running,
// and the final text and status.
func watchRun(b *Browser) (texts []string, counts []int, final, status string) {
	b.tb.Helper()
	for range 3000 {
		v := Eval[[]string](b, `[document.querySelector('[data-testid="run-output"]').textContent,
			document.querySelector('[data-testid="run-status"]').dataset.status,
			String(document.querySelectorAll('[data-testid="raw-message"]').length)]`)
		text, st := v[0], v[1]
		if st != "running" {
			return texts, counts, text, st
		}
		if text != "" && (len(texts) == 0 || texts[len(texts)-1] != text) {
			texts = append(texts, text)
		}
		if n, _ := strconv.Atoi(v[2]); n > 0 && (len(counts) == 0 || counts[len(counts)-1] != n) {
			counts = append(counts, n)
		}
		time.Sleep(10 * time.Millisecond) // a polling interval, not a timing assertion
	}
	b.tb.Fatalf("the run did not end; texts seen %q", texts)
	return nil, nil, "", ""
}

// rawTypes are the types of the raw message list's entries, in order.
func rawTypes(b *Browser) []string {
	return Eval[[]string](b, `[...document.querySelectorAll('[data-testid="raw-message"]')].map(e => e.dataset.type)`)
}

// paneRun is the id of the run the pane shows.
func paneRun(b *Browser) string {
	return Eval[string](b, `document.querySelector('[data-testid="run-page"]').dataset.run`)
}

// waitForNewRun waits until the pane shows a run other than old, and then
// until that run has ended.
func waitForNewRun(b *Browser, old string) string {
	b.tb.Helper()
	b.Do("a new run in the pane", chromedp.WaitVisible(`[data-testid="run-page"]:not([data-run="`+old+`"])`))
	id := paneRun(b)
	b.Do("run "+id+" ends", chromedp.WaitVisible(`[data-testid="run-page"][data-run="`+id+`"] [data-testid="run-status"]:not([data-status="running"])`))
	return id
}

// rect is an element's box in the page.
type rect struct{ Left, Top, Right, Bottom float64 }

func box(b *Browser, id string) rect {
	return Eval[rect](b, `(() => { const r = document.querySelector('[data-testid="`+id+`"]').getBoundingClientRect();
		return {Left: r.left, Top: r.top + scrollY, Right: r.right, Bottom: r.bottom + scrollY} })()`)
}

// streamTextCalls asks gotools' stats tool, through the daemon, how many
// times its process has run stream_text.
func streamTextCalls(tb testing.TB, cl *client.Client) float64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := cl.InvokeTool(ctx, "plugboard/gotools", apispec.InvokeToolData{Provider: "gotools", Tool: "stats"}, "e2e")
	if err != nil {
		tb.Fatalf("invoke stats: %v", err)
	}
	defer s.Close()
	var counts map[string]any
	for {
		m, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("stats: %v", err)
		}
		if obj, ok := m.JSON.(map[string]any); ok && m.Type == "json" {
			counts, _ = obj["invocations"].(map[string]any)
		}
	}
	n, ok := counts["stream_text"].(float64)
	if !ok {
		tb.Fatalf("stats %v do not count stream_text", counts)
	}
	return n
}

// waitForPluginLog polls gotools' log ring in the daemon (for at most 10 s)
// until a plugin log event starts with prefix.
func waitForPluginLog(tb testing.TB, cl *client.Client, prefix string) {
	tb.Helper()
	var logs []apispec.LogEntry
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var err error
		if logs, err = cl.PluginLogs(context.Background(), "plugboard/gotools", 100); err != nil {
			tb.Fatalf("plugin logs: %v", err)
		}
		for _, e := range logs {
			if e.Source == "log" && strings.HasPrefix(e.Message, prefix) {
				return
			}
		}
	}
	tb.Fatalf("no plugin log starting %q in %+v", prefix, logs)
}

func TestPlayground(t *testing.T) {
	skipWithoutChromium(t)
	daemonURL := MustGotoolsDaemon(t)
	cl := client.New(daemonURL, daemonKey)
	srv := MustServe(t, WithDaemon(daemonURL, daemonKey))
	b := MustBrowser(t, srv)
	b.CreateOwner()

	b.Do("open the playground", chromedp.Click(tid("nav-playground")), chromedp.WaitVisible(tid("playground-page")))
	b.Shoot("playground-picker")

	// 20 words 150 ms apart: enough that a page slow to load on a busy
	// machine still sees the text grow several times.
	text := "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon"
	startRun(b, playStream, map[string]string{"input-text": text, "input-delay_ms": "150"})
	seen, counts, final, status := watchRun(b)
	if status != "done" || strings.TrimSpace(final) != text {
		t.Fatalf("run ended %s with %q", status, final)
	}
	if len(seen) < 3 {
		t.Fatalf("the text grew in %d steps before the run was done (%q), want at least 3", len(seen), seen)
	}
	for i := 1; i < len(seen); i++ {
		if !strings.HasPrefix(seen[i], seen[i-1]) {
			t.Fatalf("text %q does not extend %q", seen[i], seen[i-1])
		}
	}
	if got := b.Text("run-counts"); !strings.HasPrefix(got, "20 messages") {
		t.Errorf("counts %q", got)
	}
	t.Run("OKRawViewFillsLive", func(t *testing.T) {
		// The last message may be shown before the run is marked done, so
		// 20 may be among the counts seen while running; the first must not.
		if len(counts) < 3 || counts[0] >= 20 {
			t.Errorf("raw message counts seen while running %v: want it to grow in steps before the end", counts)
		}
		types := rawTypes(b)
		if len(types) != 20 || strings.Count(strings.Join(types, " "), "text") != 20 || b.Text("raw-count") != "20" {
			t.Fatalf("raw view %v (count %q), want 20 text messages", types, b.Text("raw-count"))
		}
		if got := Eval[string](b, `document.querySelector('[data-testid="raw-message"][data-seq="20"] [data-testid="raw-since"]').textContent`); !strings.HasPrefix(got, "+") {
			t.Errorf("the last message arrived at %q after the start", got)
		}
	})
	t.Run("OKFormBesideOutput", func(t *testing.T) {
		form, pane := box(b, "tool-form"), box(b, "run-page")
		if form.Right > pane.Left || form.Top > pane.Bottom || pane.Top > form.Bottom {
			t.Errorf("at 1280 px the form %+v is not beside the run %+v", form, pane)
		}
		b.Do("phone width", chromedp.EmulateViewport(390, 844))
		form, pane = box(b, "tool-form"), box(b, "run-page")
		wide := Eval[bool](b, `document.documentElement.scrollWidth > innerWidth`)
		b.Do("desktop width", chromedp.EmulateViewport(1280, 900))
		if form.Bottom > pane.Top || wide {
			t.Errorf("at 390 px the form %+v is not above the run %+v (or the page scrolls sideways: %v)", form, pane, wide)
		}
	})
	b.Shoot("playground-stream-done")

	t.Run("OKTweakAndRunInPlace", func(t *testing.T) {
		first := paneRun(b)
		Eval[bool](b, `window.stayedOnPage = true`)
		b.Fill(map[string]string{"input-text": "tweaked and run again", "input-delay_ms": "1"})
		b.Do("run the tweaked form", chromedp.Click(tid("run-submit")))
		id := waitForNewRun(b, first)
		if out, _ := outputAndStatus(b); strings.TrimSpace(out) != "tweaked and run again" {
			t.Fatalf("tweaked run output %q", out)
		}
		if !Eval[bool](b, `window.stayedOnPage === true`) || Eval[string](b, `location.pathname`) != "/playground/runs/"+id {
			t.Fatalf("the page was left, or the address %q is not the run's", Eval[string](b, `location.pathname`))
		}
		if v := Eval[string](b, `document.querySelector('[data-testid="input-text"]').value`); v != "tweaked and run again" {
			t.Errorf("the form lost the tweak: %q", v)
		}
		if types := rawTypes(b); len(types) != 4 {
			t.Errorf("the raw view shows %v, want the new run's 4 messages only", types)
		}
		calls := streamTextCalls(t, cl)
		// The earlier phone-width check left the page scrolled, with the
		// button under the sticky top bar, where a click lands on the bar.
		Eval[bool](b, `(scrollTo(0, 0), true)`)
		b.Do("run again", chromedp.Click(tid("rerun")))
		again := waitForNewRun(b, id)
		if out, st := outputAndStatus(b); st != "done" || strings.TrimSpace(out) != "tweaked and run again" {
			t.Fatalf("run again ended %s with %q", st, out)
		}
		if got := streamTextCalls(t, cl); got != calls+1 || again == id {
			t.Fatalf("Run again invoked stream_text %v times as run %s, want once as a new run", got-calls, again)
		}
		if !Eval[bool](b, `window.stayedOnPage === true`) {
			t.Error("Run again left the page")
		}
	})

	startRun(b, "plugboard/gotools:gotools:render_png", map[string]string{"input-width": "96", "input-height": "64"})
	b.Do("wait for the image", chromedp.WaitVisible(tid("out-image")))
	w := Eval[int](b, `new Promise(r => { const i = document.querySelector('[data-testid="out-image"]');
		if (i.complete) r(i.naturalWidth); else { i.onload = () => r(i.naturalWidth); i.onerror = () => r(-1) } })`)
	if w != 96 {
		t.Fatalf("image naturalWidth %d, want 96", w)
	}
	b.Do("the raw image", chromedp.WaitVisible(`[data-testid="raw-message"][data-type="blob"] [data-testid="raw-image"]`))
	if types := rawTypes(b); len(types) != 1 || types[0] != "blob" {
		t.Fatalf("render_png's raw messages %v, want one blob", types)
	}
	b.Shoot("playground-image")

	startRun(b, "plugboard/gotools:gotools:json_echo", map[string]string{"input-payload": `{"city": "Lyon", "tags": ["a", "b"], "n": 3}`})
	b.Do("the raw JSON", chromedp.WaitVisible(`[data-testid="raw-message"][data-type="json"] [data-testid="raw-json"] details[open]`))
	b.Do("collapse the JSON", chromedp.Click(`[data-testid="raw-json"] > details > summary`),
		chromedp.WaitNotPresent(`[data-testid="raw-json"] > details[open]`))
	b.Do("expand it", chromedp.Click(`[data-testid="raw-json"] > details > summary`), chromedp.WaitVisible(`[data-testid="raw-json"] .json-key`))
	b.Shoot("playground-json")

	startRun(b, playStream, map[string]string{"input-text": strings.Repeat("slow ", 30), "input-delay_ms": "1000"})
	b.Do("wait for the first word", chromedp.WaitVisible(`[data-testid="run-output"] .out-text`))
	b.Do("cancel", chromedp.Click(tid("cancel-run")), chromedp.WaitVisible(`[data-testid="run-status"][data-status="cancelled"]`))
	if b.Count("out-error") != 0 {
		t.Error("a cancelled run shows an error")
	}
	if text, _ := outputAndStatus(b); strings.Count(text, "slow") >= 30 {
		t.Fatalf("the cancelled run produced everything: %q", text)
	}
	// The cancel reached the running handler: the SDK logs it as a plugin
	// log event, which the daemon keeps in the plugin's log.
	waitForPluginLog(t, cl, "cancelled session")
	b.Shoot("playground-cancelled")

	// Reloading mid-run replays what was stored and follows the rest; the
	// tool is not invoked again (no new run, no repeated words).
	words := "one two three four five six seven eight"
	calls := streamTextCalls(t, cl)
	startRun(b, playStream, map[string]string{"input-text": words, "input-delay_ms": "200"})
	b.Do("wait for the first word", chromedp.WaitVisible(`[data-testid="run-output"] .out-text`))
	b.Do("reload mid-run", chromedp.Reload(), chromedp.WaitVisible(tid("run-page")))
	if _, final, status := watchUntilEnded(b); status != "done" || strings.TrimSpace(final) != words {
		t.Fatalf("after a reload the run ended %s with %q, want %q once", status, final, words)
	}
	if n := len(rawTypes(b)); n != 8 {
		t.Errorf("after a reload the raw view has %d messages, want 8", n)
	}
	if got := streamTextCalls(t, cl); got != calls+1 {
		t.Fatalf("the plugin ran stream_text %v times for one run and a reload, want 1", got-calls)
	}

	b.Open("/playground/runs", "runs-page")
	if n := b.Count("run-row"); n != 7 {
		t.Fatalf("%d runs in the history, want 7", n)
	}
	b.Shoot("playground-history")
	// A finished run's page says done at once; its output is replayed after.
	b.Do("open the first run", chromedp.Click(`[data-testid="run-row"]:last-child a`),
		chromedp.WaitVisible(`[data-testid="run-output"] .out-text[data-seq="20"]`))
	if out, _ := outputAndStatus(b); strings.TrimSpace(out) != text {
		t.Fatalf("replayed output %q", out)
	}
	if v := Eval[string](b, `document.querySelector('[data-testid="input-text"]').value`); v != text {
		t.Fatalf("the run's form text %q", v)
	}
	b.Shoot("playground-form")
	first := paneRun(b)
	b.Do("run it again", chromedp.Click(tid("rerun")))
	waitForNewRun(b, first)
	if out, st := outputAndStatus(b); st != "done" || strings.TrimSpace(out) != text {
		t.Fatalf("run again ended %s with %q", st, out)
	}
	b.Open("/playground/runs", "runs-page")
	if n := b.Count("run-row"); n != 8 {
		t.Fatalf("%d runs after the re-run, want 8", n)
	}
}
