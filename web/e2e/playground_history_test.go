package e2e_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/plugboard/plugboard/store"
)

// mustSeedHistory records finished runs straight into the app's database
// (the history only reads them): 30 of root's, every fourth failed, and 3
// of another user's.
func mustSeedHistory(tb testing.TB, srv *Server) {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(srv.Data, "plugboard.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	root, err := db.FindUserByUsername(ctx, "root")
	if err != nil {
		tb.Fatal(err)
	}
	seed := func(userID int64, name string, i int) {
		r := &store.Run{UserID: userID, Username: name, PluginID: "plugboard/gotools", Provider: "gotools",
			Tool: []string{"stream_text", "render_png"}[i%2], Params: map[string]any{"text": name + " note " + strconv.Itoa(i)}}
		if err := db.CreateRun(ctx, r); err != nil {
			tb.Fatal(err)
		}
		status := store.RunDone
		if i%4 == 3 {
			status = store.RunFailed
		}
		if err := db.FinishRun(ctx, r.ID, status, ""); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range 30 {
		seed(root.ID, "root", i)
	}
	for i := range 3 {
		seed(root.ID+1000, "mo", i)
	}
}

// pick chooses an option of a filter select as a user would (the change
// submits the filter form) and waits for the filtered page.
func pick(b *Browser, id, value string) {
	b.tb.Helper()
	// The page's deferred scripts must have run, or nothing listens yet.
	Eval[bool](b, `new Promise(r => document.readyState === "complete" ? r(true) : addEventListener("load", () => r(true)))`)
	Eval[bool](b, `(() => { const s = document.querySelector('[data-testid="`+id+`"]'); s.value = `+strconv.Quote(value)+`;
		s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	b.Do("filtered by "+id, chromedp.WaitReady(`[data-testid="`+id+`"] option[value="`+value+`"][selected]`))
}

// rowValues are the text of a field (run-who …) of every row shown.
func rowValues(b *Browser, field string) []string {
	return Eval[[]string](b, `[...document.querySelectorAll('[data-testid="run-row"] [data-testid="`+field+`"]')].map(e => e.textContent.trim())`)
}

func TestPlaygroundHistory(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t)
	b := MustBrowser(t, srv)
	b.CreateOwner()
	mustSeedHistory(t, srv)

	b.Open("/playground/runs", "run-list")
	if n, sum := b.Count("run-row"), b.Text("runs-summary"); n != 25 || sum != "Runs 1–25 of 33" {
		t.Fatalf("first page: %d rows, %q", n, sum)
	}
	b.Do("older", chromedp.Click(tid("runs-older")), chromedp.WaitVisible(`//p[@data-testid="runs-summary"][contains(., "26–33")]`))
	if n := b.Count("run-row"); n != 8 || b.Count("runs-older") != 0 {
		t.Fatalf("second page: %d rows", n)
	}
	b.Do("newer", chromedp.Click(tid("runs-newer")), chromedp.WaitVisible(`//p[@data-testid="runs-summary"][contains(., "1–25")]`))

	pick(b, "runs-status", "failed")
	if st := rowValues(b, "run-status-badge"); len(st) != 7 {
		t.Fatalf("failed runs listed %v, want 7", st)
	}
	for _, st := range rowValues(b, "run-status-badge") {
		if st != "failed" {
			t.Fatalf("the failed filter lists a %s run", st)
		}
	}
	pick(b, "runs-status", "")
	b.Do("all statuses", chromedp.WaitVisible(`//p[@data-testid="runs-summary"][contains(., "of 33")]`))
	mo := Eval[string](b, `[...document.querySelectorAll('[data-testid="runs-user"] option')].find(o => o.textContent === "mo").value`)
	pick(b, "runs-user", mo)
	if who := rowValues(b, "run-who"); len(who) != 3 || who[0] != "mo" || who[2] != "mo" {
		t.Fatalf("mo's runs %v", who)
	}
	b.Shoot("playground-history-filtered")

	b.Open("/playground/runs", "runs-search")
	b.Fill(map[string]string{"runs-search": "root note 17"})
	b.Do("search", chromedp.Click(tid("runs-filter-submit")), chromedp.WaitVisible(tid("runs-clear")))
	if links := rowValues(b, "run-link"); len(links) != 1 || links[0] != "render_png" {
		t.Fatalf("the search for run 17 found %v", links)
	}
	b.Do("clear", chromedp.Click(tid("runs-clear")), chromedp.WaitVisible(`//p[@data-testid="runs-summary"][contains(., "of 33")]`))
	// On a phone every field of a row is on screen, and nothing scrolls
	// sideways.
	b.Do("phone width", chromedp.EmulateViewport(390, 844))
	clipped := Eval[[]string](b, `[...document.querySelectorAll('[data-testid="run-row"] [data-testid]')]
		.filter(e => { const r = e.getBoundingClientRect(); return r.width === 0 || r.right > innerWidth || r.left < 0 })
		.map(e => e.dataset.testid)`)
	wide := Eval[bool](b, `document.documentElement.scrollWidth > innerWidth`)
	b.Do("desktop width", chromedp.EmulateViewport(1280, 900))
	if len(clipped) > 0 || wide {
		t.Fatalf("at 390 px these row fields are hidden or clipped: %v (page scrolls sideways: %v)", clipped, wide)
	}
}
