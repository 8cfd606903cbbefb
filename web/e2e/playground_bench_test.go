package e2e_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// observeLatency is installed on a run's page: for every text message
// inserted after it, the time from the message's arrival at the admin app
// (data-at, Unix ms) to its insertion into the DOM.
const observeLatency = `(() => {
	window.__lat = [];
	new MutationObserver(ms => {
		const now = Date.now();
		for (const m of ms) for (const n of m.addedNodes)
			if (n.dataset && n.dataset.at) window.__lat.push(now - Number(n.dataset.at));
	}).observe(document.querySelector('[data-testid="run-output"]'), {childList: true});
	return true;
})()`

// BenchmarkPlaygroundChunkToDOM measures, in a real browser, the time from
// the plugin's message reaching the admin app to the DOM update that shows
// it; it reports the median per run of 60 words 50 ms apart.
func BenchmarkPlaygroundChunkToDOM(b *testing.B) {
	skipWithoutChromium(b)
	srv := MustServe(b, WithDaemon(MustGotoolsDaemon(b), daemonKey))
	br := MustBrowser(b, srv)
	br.CreateOwner()
	words := strings.TrimSpace(strings.Repeat("word ", 60))
	var medians []float64
	b.ResetTimer()
	for range b.N {
		startRun(br, playStream, map[string]string{"input-text": words, "input-delay_ms": "50"})
		Eval[bool](br, observeLatency)
		if _, _, status := watchUntilEnded(br); status != "done" {
			b.Fatalf("run ended %s", status)
		}
		lat := Eval[[]float64](br, `window.__lat`)
		if len(lat) < 10 {
			b.Fatalf("only %d messages observed", len(lat))
		}
		sort.Float64s(lat)
		medians = append(medians, lat[len(lat)/2])
	}
	sort.Float64s(medians)
	b.ReportMetric(medians[len(medians)/2], "ms-chunk-to-dom-median")
}

// BenchmarkPlaygroundTenThousand runs a 10,000-message stream and checks
// that the page renders every message to the end (DOM updates are batched
// per animation frame).
func BenchmarkPlaygroundTenThousand(b *testing.B) {
	skipWithoutChromium(b)
	srv := MustServe(b, WithDaemon(MustGotoolsDaemon(b), daemonKey))
	br := MustBrowser(b, srv)
	br.CreateOwner()
	words := strings.TrimSpace(strings.Repeat("w ", 10000))
	b.ResetTimer()
	for range b.N {
		startRun(br, playStream, map[string]string{"input-text": words, "input-delay_ms": "0.1"})
		br.Do("wait for the end", chromedp.WaitVisible(`[data-testid="run-status"][data-status="done"]`))
		if n := Eval[int](br, `document.querySelectorAll('[data-testid="run-output"] .out-text').length`); n != 10000 {
			b.Fatalf("%d messages rendered, want 10000", n)
		}
	}
}
