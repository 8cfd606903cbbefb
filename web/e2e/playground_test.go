package e2e_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
	b.tb.Helper()
	for range 3000 {
		text, st := outputAndStatus(b)
		if st != "running" {
			return seen, text, st
		}
		if text != "" && (len(seen) == 0 || seen[len(seen)-1] != text) {
			seen = append(seen, text)
		}
		time.Sleep(10 * time.Millisecond) // a polling interval, not a timing assertion
	}
	b.tb.Fatalf("the run did not end; texts seen %q", seen)
	return nil, "", ""
}

func TestPlayground(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServeWithDaemon(t, MustGotoolsDaemon(t))
	b := MustBrowser(t, srv)
	b.Open("/", "setup-page")
	b.Fill(map[string]string{"input-username": "root", "input-password": "correct horse", "input-confirm": "correct horse"})
	b.Do("create owner", chromedp.Click(tid("setup-submit")), chromedp.WaitVisible(tid("plugins-page")))

	b.Do("open the playground", chromedp.Click(tid("nav-playground")), chromedp.WaitVisible(tid("playground-page")))
	b.Shoot("playground-picker")

	// 20 words 150 ms apart: enough that a page slow to load on a busy
	// machine still sees the text grow several times.
	text := "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon"
	startRun(b, playStream, map[string]string{"input-text": text, "input-delay_ms": "150"})
	seen, final, status := watchUntilEnded(b)
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
	b.Shoot("playground-stream-done")

	startRun(b, "plugboard/gotools:gotools:render_png", map[string]string{"input-width": "96", "input-height": "64"})
	b.Do("wait for the image", chromedp.WaitVisible(tid("out-image")))
	w := Eval[int](b, `new Promise(r => { const i = document.querySelector('[data-testid="out-image"]');
		if (i.complete) r(i.naturalWidth); else { i.onload = () => r(i.naturalWidth); i.onerror = () => r(-1) } })`)
	if w != 96 {
		t.Fatalf("image naturalWidth %d, want 96", w)
	}
	b.Shoot("playground-image")

	startRun(b, playStream, map[string]string{"input-text": strings.Repeat("slow ", 30), "input-delay_ms": "1000"})
	b.Do("wait for the first word", chromedp.WaitVisible(`[data-testid="run-output"] .out-text`))
	b.Do("cancel", chromedp.Click(tid("cancel-run")), chromedp.WaitVisible(`[data-testid="run-status"][data-status="cancelled"]`))
	if b.Count("out-error") != 0 {
		t.Error("a cancelled run shows an error")
	}
	if text, _ := outputAndStatus(b); strings.Count(text, "slow") >= 30 {
		t.Fatalf("the cancelled run produced everything: %q", text)
	}
	b.Shoot("playground-cancelled")

	// Reloading mid-run replays what was stored and follows the rest; the
	// tool is not invoked again (no new run, no repeated words).
	words := "one two three four five six seven eight"
	startRun(b, playStream, map[string]string{"input-text": words, "input-delay_ms": "200"})
	b.Do("wait for the first word", chromedp.WaitVisible(`[data-testid="run-output"] .out-text`))
	b.Do("reload mid-run", chromedp.Reload(), chromedp.WaitVisible(tid("run-page")))
	if _, final, status := watchUntilEnded(b); status != "done" || strings.TrimSpace(final) != words {
		t.Fatalf("after a reload the run ended %s with %q, want %q once", status, final, words)
	}

	b.Open("/playground/runs", "runs-page")
	if n := b.Count("run-row"); n != 4 {
		t.Fatalf("%d runs in the history, want 4", n)
	}
	b.Shoot("playground-history")
	// A finished run's page says done at once; its output is replayed after.
	b.Do("open the first run", chromedp.Click(`[data-testid="run-row"]:last-child a`),
		chromedp.WaitVisible(`[data-testid="run-output"] .out-text[data-seq="20"]`))
	if out, _ := outputAndStatus(b); strings.TrimSpace(out) != text {
		t.Fatalf("replayed output %q", out)
	}
	b.Do("re-run it", chromedp.Click(tid("rerun")), chromedp.WaitVisible(tid("tool-form")))
	if v := Eval[string](b, `document.querySelector('[data-testid="input-text"]').value`); v != text {
		t.Fatalf("re-run form text %q", v)
	}
	b.Shoot("playground-form")
	b.Do("run again", chromedp.Click(tid("run-submit")), chromedp.WaitVisible(`[data-testid="run-status"][data-status="done"]`))
	b.Open("/playground/runs", "runs-page")
	if n := b.Count("run-row"); n != 5 {
		t.Fatalf("%d runs after the re-run, want 5", n)
	}
}
