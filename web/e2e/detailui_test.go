package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/daemon/signature"
)

// consoleErrors collects what a page reports as an error: uncaught
// exceptions, console.error calls (htmx reports its own errors that way)
// and browser log entries such as CSP violations. A refused request's
// network line (a 422 form) is left out: the tests make those on purpose.
type consoleErrors struct {
	mu   sync.Mutex
	seen []string
}

// watchConsole starts collecting b's console errors.
func watchConsole(b *Browser) *consoleErrors {
	b.tb.Helper()
	ce := &consoleErrors{}
	err := chromedp.Listen(b.ctx, func(ev any) {
		var line string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			line = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				line += " " + ev.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
				return
			}
			line = "console." + string(ev.Type) + ":"
			for _, a := range ev.Args {
				line += " " + a.Description + string(a.Value)
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level != log.EntryLevelError || ev.Entry.Source == log.EntrySourceNetwork {
				return
			}
			line = fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		default:
			return
		}
		ce.mu.Lock()
		ce.seen = append(ce.seen, line)
		ce.mu.Unlock()
	})
	if err != nil {
		b.tb.Fatal(err)
	}
	return ce
}

// check fails the test with every error seen on the page named what, and
// starts afresh.
func (ce *consoleErrors) check(tb testing.TB, what string) {
	tb.Helper()
	ce.mu.Lock()
	seen := ce.seen
	ce.seen = nil
	ce.mu.Unlock()
	for _, s := range seen {
		tb.Errorf("%s: %s", what, s)
	}
}

// mustPackNoPython packs the Python example asking for a Python no host
// has, so that its install fails at verifying.
func mustPackNoPython(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, os.DirFS(pytoolsDir)); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "manifest.yaml")
	m, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(m), `version: "3.10"`, `version: "3.99"`, 1)), 0o644); err != nil {
		tb.Fatal(err)
	}
	data, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return mustFile(tb, "nopython.difypkg", data)
}

// mustGotoolsExample copies the built Go example (make puts it in dist/)
// into a fresh examples folder.
func mustGotoolsExample(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile("../../dist/gotools.difypkg")
	if err != nil {
		tb.Fatalf("%v: run make first", err)
	}
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gotools.difypkg"), data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// shootElement saves screenshots of one element at desktop and phone
// widths into $PLUGBOARD_SHOTS, when set (name-1280.png, name-390.png):
// a long page's full screenshot is too small to read the part that changed.
func shootElement(b *Browser, name, sel string) {
	b.tb.Helper()
	dir := os.Getenv("PLUGBOARD_SHOTS")
	if dir == "" {
		return
	}
	for _, w := range []int64{1280, 390} {
		b.Do("resize", chromedp.EmulateViewport(w, 844))
		ctx, cancel := context.WithTimeout(b.ctx, step)
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
		cancel()
		if err != nil {
			b.tb.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644); err != nil {
			b.tb.Fatal(err)
		}
	}
	b.Do("reset viewport", chromedp.EmulateViewport(1280, 900))
}

// noOverflow fails unless the page fits the viewport's width.
func noOverflow(b *Browser, what string) {
	b.tb.Helper()
	if got := Eval[string](b, `document.documentElement.scrollWidth + " <= " + window.innerWidth`); !fitsWidth(got) {
		b.tb.Errorf("%s: the page is wider than the viewport (%s)", what, got)
	}
}

func fitsWidth(s string) bool {
	var w, inner int
	fmt.Sscanf(s, "%d <= %d", &w, &inner)
	return w > 0 && w <= inner
}

// topbarRows is how many rows the top bar's visible items take.
const topbarRows = `(() => {
	const tops = new Set();
	for (const el of document.querySelector('[data-testid="topbar"]').children) {
		const r = el.getBoundingClientRect();
		if (r.width > 0 && r.height > 0) tops.add(Math.round(r.top + r.height / 2));
	}
	return [...tops].reduce((rows, y) => rows.some(r => Math.abs(r - y) < 8) ? rows : rows.concat(y), []).length;
})()`

// addRunningBadge puts an "Installing 1" badge beside the real "failed"
// one, in the markup views.TaskIndicator renders: a real running install
// ends too soon to measure the layout around it without a race.
const addRunningBadge = `(() => {
	const inner = document.querySelector('[data-testid="task-indicator-inner"]');
	const a = document.createElement("a");
	a.className = "badge state-starting task-pill";
	a.href = "/tasks";
	a.dataset.testid = "tasks-running";
	const s = document.createElement("span");
	s.className = "spinner";
	a.append(s, "Installing 1");
	inner.prepend(a);
	return true;
})()`

// TestDetailUI walks the plugin detail's actions, the header at 1280 and
// 390 px with both task badges, and the secret inputs, checking every page
// for console errors (issue 11 items 7, 8, 10).
func TestDetailUI(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t, WithExamples(mustGotoolsExample(t)))
	owner := MustBrowser(t, srv)
	errs := watchConsole(owner)
	owner.Open("/", "setup-page")
	owner.Fill(map[string]string{"input-username": "root", "input-password": "correct horse", "input-confirm": "correct horse"})
	owner.Do("create owner", chromedp.Click(tid("setup-submit")), chromedp.WaitVisible(tid("plugins-empty")))
	errs.check(t, "the empty Plugins page")

	t.Run("OKHeaderBadges", func(t *testing.T) {
		b := owner
		b.upload(mustPackNoPython(t))
		b.Do("preview", chromedp.WaitVisible(tid("install-submit")), chromedp.Click(tid("install-submit")))
		b.Do("the install fails", chromedp.WaitVisible(`[data-testid="task-progress"][data-status="failed"]`),
			chromedp.WaitVisible(tid("tasks-failed")))
		Eval[bool](b, addRunningBadge)
		b.Do("both badges", chromedp.WaitVisible(tid("tasks-running")), chromedp.WaitVisible(tid("tasks-failed")))
		if rows := Eval[int](b, topbarRows); rows != 1 {
			t.Errorf("at 1280 px the top bar takes %d rows with both badges, want 1", rows)
		}
		noOverflow(b, "1280 px")
		b.Shoot("header-badges")
		shootElement(b, "header-badges-bar", `[data-testid="topbar"]`)
		// Between phone and desktop the bar folds the nav when the row
		// would not fit.
		Eval[bool](b, `(() => { window.dispatchEvent(new Event("resize")); return true })()`)
		if Eval[bool](b, `document.querySelector('[data-testid="topbar"]').classList.contains("topbar-compact")`) {
			t.Error("at 1280 px the top bar is compacted though its row fits")
		}
		b.Do("tablet", chromedp.EmulateViewport(1000, 800))
		Eval[bool](b, `(() => { window.dispatchEvent(new Event("resize")); return true })()`)
		b.Do("the menu button", chromedp.WaitVisible(tid("nav-toggle")), chromedp.WaitNotVisible(tid("nav-settings")))
		if rows := Eval[int](b, topbarRows); rows != 1 {
			t.Errorf("at 1000 px the compact top bar takes %d rows, want 1", rows)
		}
		noOverflow(b, "1000 px")
		b.Do("phone", chromedp.EmulateViewport(390, 844), chromedp.WaitVisible(tid("tasks-running")), chromedp.WaitVisible(tid("tasks-failed")))
		noOverflow(b, "390 px with both badges")
		if Eval[bool](b, `getComputedStyle(document.querySelector('[data-testid="main-nav"]')).display !== "none"`) {
			t.Error("at 390 px the nav shows without the menu button")
		}
		b.Do("open the menu", chromedp.Click(tid("nav-toggle")), chromedp.WaitVisible(tid("nav-settings")))
		if got := Eval[string](b, `document.querySelector('[data-testid="nav-toggle"]').getAttribute("aria-expanded")`); got != "true" {
			t.Errorf("menu button aria-expanded=%s", got)
		}
		noOverflow(b, "390 px, menu open")
		if dir := os.Getenv("PLUGBOARD_SHOTS"); dir != "" {
			png, err := chromedp.Run(b.ctx, chromedp.Screenshot(tid("topbar")))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "header-menu-open-390.png"), png, 0o644)
		}
		b.Do("close the menu", chromedp.Click(tid("nav-toggle")), chromedp.WaitNotVisible(tid("nav-settings")))
		b.Do("desktop", chromedp.EmulateViewport(1280, 900))

		// Opening the tasks page is seeing the failure: the badge clears.
		b.Do("open the tasks", chromedp.Click(tid("tasks-failed")), chromedp.WaitVisible(tid("tasks-page")),
			chromedp.WaitReady(tid("task-indicator-inner")))
		if n := b.Count("tasks-failed"); n != 0 {
			t.Error("the failed badge stays once the tasks page was opened")
		}
		b.Open("/", "plugins-page")
		b.Do("indicator loaded", chromedp.WaitReady(tid("task-indicator-inner")))
		if n := b.Count("tasks-failed"); n != 0 {
			t.Error("the failed badge comes back on the next page")
		}
		errs.check(t, "Plugins and tasks pages")
	})

	t.Run("OKMemberHasNoBadges", func(t *testing.T) {
		owner.Open("/users", "add-user-form")
		owner.Fill(map[string]string{"input-username": "bob", "input-password": "bob-password"})
		owner.Do("add bob", chromedp.Click(tid("add-user-submit")), chromedp.WaitVisible(`[data-username="bob"]`))
		member := MustBrowser(t, srv)
		login(member, "bob", "bob-password")
		if n := member.Count("task-indicator"); n != 0 {
			t.Fatal("a member who may not install has the task indicator")
		}
		member.Do("phone", chromedp.EmulateViewport(390, 844))
		noOverflow(member, "member at 390 px")
	})

	t.Run("OKDetailActions", func(t *testing.T) {
		b := owner
		b.Open("/", "plugins-page")
		b.Do("install the Go example", chromedp.Click(tid("example-install")),
			chromedp.WaitVisible(`[data-testid="task-progress"][data-status="success"]`))
		b.Open("/plugins/plugboard/gotools", "plugin-detail")
		if n := b.Count("tool-run"); n == 0 || n != b.Count("detail-tool") {
			t.Fatalf("%d Run in playground links for %d tools", n, b.Count("detail-tool"))
		}
		if got := b.Text("credential-missing"); !strings.Contains(got, "needs a credential") {
			t.Fatalf("warning %q", got)
		}
		b.Shoot("detail-credential-missing")
		shootElement(b, "detail-tools", `[data-testid="detail-tools"]`)
		errs.check(t, "the plugin detail")
		b.Open("/playground?pick=plugboard/gotools:gotools:stream_text", "tool-form")
		if got := b.Text("credential-missing"); !strings.Contains(got, "needs a credential") {
			t.Fatalf("the playground warns %q", got)
		}
		shootElement(b, "playground-credential-missing", `[data-testid="tool-form"]`)
		b.Open("/plugins/plugboard/gotools", "plugin-detail")

		// The warning's button opens the provider's add form.
		b.Do("add credential", chromedp.Click(tid("credential-missing-add")), chromedp.WaitVisible(tid("add-credential")))
		if got := Eval[string](b, `location.pathname + location.hash`); got != "/credentials/plugboard/gotools/gotools#add-credential" {
			t.Fatalf("Add credential went to %s", got)
		}
		b.Fill(map[string]string{"input-name": "main", "input-api_key": "nope-wrong-key"})
		submit(b, "a rejected key", `[data-testid="credential-submit"]`, "form-error")
		if got := b.Text("error-f_api_key"); !strings.Contains(got, "Type it again") {
			t.Fatalf("key field says %q", got)
		}
		if v := Eval[string](b, `document.querySelector('[data-testid="input-name"]').value + "|" + document.querySelector('[data-testid="input-api_key"]').value`); v != "main|" {
			t.Fatalf("after a rejection name|key = %q, want the name kept and the key to retype", v)
		}
		b.Shoot("credential-retype")
		shootElement(b, "credential-retype-form", `[data-testid="add-credential"]`)
		b.Fill(map[string]string{"input-api_key": "demo-e2e-key-123"})
		submit(b, "a good key", `[data-testid="credential-submit"]`, "credential-row")
		if st := Eval[string](b, `document.querySelector('[data-testid="test-status"]').dataset.status`); st != "ok" {
			t.Fatalf("a credential the plugin accepted shows test status %q", st)
		}

		b.Open("/plugins/plugboard/gotools", "plugin-detail")
		if n := b.Count("credential-missing"); n != 0 {
			t.Fatal("the warning stays with a credential stored")
		}
		b.Do("run a tool", chromedp.Click(`[data-tool="stream_text"] [data-testid="tool-run"]`), chromedp.WaitVisible(tid("tool-form")))
		if got := Eval[string](b, `document.querySelector('[data-testid="tool-form"]').dataset.tool`); got != "plugboard/gotools:gotools:stream_text" {
			t.Fatalf("the playground opened %q", got)
		}
		b.Shoot("playground-picked")
		shootElement(b, "playground-form", `[data-testid="tool-form"]`)
		errs.check(t, "credentials and playground")
	})

	t.Run("OKSecretInputs", func(t *testing.T) {
		b := owner
		b.Open("/extensions", "extensions-page")
		if got := Eval[string](b, `(el => el.type + " " + el.autocomplete)(document.querySelector('[data-testid="input-api_key"]'))`); got != "password off" {
			t.Errorf("extension key input: %s", got)
		}
		b.Fill(map[string]string{"input-name": "crm", "input-endpoint": "not a url", "input-api_key": "sk-typed-secret-1"})
		submit(b, "a bad endpoint", `[data-testid="add-extension"] [data-testid="extension-submit"]`, "extensions-page")
		if v := Eval[string](b, `document.querySelector('[data-testid="input-name"]').value + "|" + document.querySelector('[data-testid="input-api_key"]').value`); v != "crm|" {
			t.Errorf("after a rejection name|key = %q", v)
		}
		if got := b.Text("error-api_key"); !strings.Contains(got, "Type the key again") {
			t.Errorf("key field says %q", got)
		}
		if Eval[bool](b, `document.documentElement.outerHTML.includes("sk-typed-secret-1")`) {
			t.Error("the typed key is in the page")
		}
		b.Shoot("extension-retype")

		b.Open("/github", "github-page")
		b.Shoot("github-settings")
		if got := Eval[string](b, `(el => el.type + " " + el.autocomplete)(document.querySelector('[data-testid="input-token"]'))`); got != "password off" {
			t.Errorf("GitHub token input: %s", got)
		}

		k, err := signature.GenerateKey(2048)
		if err != nil {
			t.Fatal(err)
		}
		b.Open("/settings", "key-form")
		b.Fill(map[string]string{"input-name": "team", "input-pem": string(signature.EncodePrivateKey(k))})
		submit(b, "a private key", `[data-testid="key-submit"]`, "error-pem")
		if Eval[bool](b, `document.documentElement.outerHTML.includes("PRIVATE KEY-----")`) {
			t.Error("the private key is echoed into the page")
		}
		b.Shoot("settings-private-key")
		errs.check(t, "extensions, GitHub and settings")
	})
}
