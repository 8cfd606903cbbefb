package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromium = "/usr/bin/chromium"

// skipWithoutChromium skips when Chromium is missing, except in CI, where
// the browser tests must run.
func skipWithoutChromium(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(chromium); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is missing; CI must `apt-get install -y chromium`", chromium)
	}
	tb.Skipf("%s is missing: install Debian's chromium to run the browser tests", chromium)
}

// Browser is one headless Chromium with its own profile.
type Browser struct {
	tb  testing.TB
	ctx context.Context
	srv *Server
}

// MustBrowser starts Chromium with a fresh profile; it ends with the test.
// Chromium now and then exits before it opens its DevTools port when the
// machine is busy (CI saw "chrome failed to start" with nothing but dbus
// noise); such a start is tried again, a few times, each with a new profile.
func MustBrowser(tb testing.TB, srv *Server) *Browser {
	tb.Helper()
	skipWithoutChromium(tb)
	const attempts = 3
	for i := 1; ; i++ {
		ctx, err := startChromium(tb)
		if err == nil {
			return &Browser{tb: tb, ctx: ctx, srv: srv}
		}
		if i == attempts || !strings.Contains(err.Error(), "chrome failed to start") {
			tb.Fatalf("start chromium (attempt %d of %d): %v", i, attempts, err)
		}
		tb.Logf("start chromium (attempt %d of %d): %v", i, attempts, err)
	}
}

// startChromium starts one Chromium with its own profile and returns its
// context; the browser ends with the test, or at once when it fails to start.
func startChromium(tb testing.TB) (context.Context, error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-crash-reporter", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		return nil, err
	}
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx, nil
}

// tid is the CSS selector of a data-testid.
func tid(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// step bounds one browser step: a broken page fails the test instead of
// hanging it.
const step = 30 * time.Second

// Do runs actions, failing the test on error.
func (b *Browser) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.tb.Fatalf("%s: %v", what, err)
	}
}

// Text returns the text of the element with the data-testid, waiting for
// it to be in the page. The element and its text are read in one
// evaluation: a query and a read in two round trips fail ("No node with
// given id found") when the page replaces the node between them, as a
// navigation or an htmx swap may.
func (b *Browser) Text(id string) string {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	js := `(() => { const e = document.querySelector('[data-testid="` + id + `"]'); return e === null ? null : e.textContent })()`
	var lastErr error
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[*string](js))
		if err == nil && v != nil {
			return strings.TrimSpace(*v)
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			b.tb.Fatalf("text of %s: not in the page within %s (last error: %v)", id, step, lastErr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Eval evaluates JavaScript (awaiting a promise) and returns its value.
func Eval[T any](b *Browser, js string) T {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.tb.Fatalf("evaluate %q: %v", js, err)
	}
	return v
}

// Count returns how many elements have the data-testid.
func (b *Browser) Count(id string) int {
	return Eval[int](b, `document.querySelectorAll('[data-testid="`+id+`"]').length`)
}

// Open navigates to a path and waits for an element of the page.
func (b *Browser) Open(path, waitFor string) {
	b.tb.Helper()
	b.Do("open "+path, chromedp.Navigate(b.srv.URL+path), chromedp.WaitVisible(tid(waitFor)))
}

// CreateOwner makes the first user, root, on the setup page a new server
// opens with, and waits for the Plugins page it leads to.
func (b *Browser) CreateOwner() {
	b.Open("/", "setup-page")
	b.Fill(map[string]string{"input-username": "root", "input-password": "correct horse", "input-confirm": "correct horse"})
	b.Do("create owner", chromedp.Click(tid("setup-submit")), chromedp.WaitVisible(tid("plugins-page")))
}

// Fill sets inputs by data-testid ("input-username" …) as if typed.
func (b *Browser) Fill(fields map[string]string) {
	b.tb.Helper()
	for id, v := range fields {
		b.Do("wait for "+id, chromedp.WaitVisible(tid(id)))
		js := `(() => { const el = document.querySelector('[data-testid="` + id + `"]'); el.value = ` + strconv.Quote(v) +
			`; el.dispatchEvent(new Event("input", {bubbles: true})); return true })()`
		Eval[bool](b, js)
	}
}

// Shoot saves screenshots of the page at desktop and phone widths into
// $PLUGBOARD_SHOTS, when set.
func (b *Browser) Shoot(name string) {
	b.tb.Helper()
	dir := os.Getenv("PLUGBOARD_SHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.tb.Fatal(err)
	}
	for _, w := range []struct {
		suffix        string
		width, height int64
	}{{"1280", 1280, 900}, {"390", 390, 844}} {
		b.Do("resize", chromedp.EmulateViewport(w.width, w.height))
		ctx, cancel := context.WithTimeout(b.ctx, step)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			b.tb.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+w.suffix+".png"), png, 0o644); err != nil {
			b.tb.Fatal(err)
		}
	}
	b.Do("reset viewport", chromedp.EmulateViewport(1280, 900))
}

// Click clicks the element with the data-testid and waits for the element
// waitFor. A node the page replaces between chromedp's query and its click
// ("Could not find node with given id": a navigation ending or an htmx
// swap) is looked up again; the click had not happened.
func (b *Browser) Click(what, id, waitFor string) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	for {
		err := chromedp.Do(ctx, chromedp.Click(tid(id)))
		if err == nil {
			break
		}
		if ctx.Err() != nil || !strings.Contains(err.Error(), "Could not find node") {
			b.tb.Fatalf("%s: %v", what, err)
		}
	}
	b.Do(what, chromedp.WaitVisible(tid(waitFor)))
}

// Upload sets the files of the file input with the data-testid, once the
// page has loaded. A node the page replaces between chromedp's query and
// its setting of the files ("Could not find node with given id", as a
// navigation ending or a script redrawing the form may cause) is looked up
// again.
func (b *Browser) Upload(id string, paths ...string) {
	b.tb.Helper()
	Eval[bool](b, `new Promise(r => document.readyState === "complete" ? r(true) : addEventListener("load", () => r(true)))`)
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	for {
		err := chromedp.Do(ctx, chromedp.SetUploadFiles(tid(id), paths))
		if err == nil {
			return
		}
		if ctx.Err() != nil || !strings.Contains(err.Error(), "Could not find node") {
			b.tb.Fatalf("choose %v for %s: %v", paths, id, err)
		}
	}
}
