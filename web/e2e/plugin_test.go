package e2e_test

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// pytoolsDir is the Python example plugin: it needs no compiler to pack.
const pytoolsDir = "../../examples/plugins/pytools"

// MustPackPytools packs the Python example plugin into dir/pytools.difypkg.
func MustPackPytools(tb testing.TB, dir string) string {
	tb.Helper()
	data, _, err := pkgfmt.Pack(os.DirFS(pytoolsDir), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatalf("pack pytools: %v", err)
	}
	p := filepath.Join(dir, "pytools.difypkg")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// mustPackOtherCode packs the Python example with its code changed and its
// version kept, into a temporary file.
func mustPackOtherCode(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, os.DirFS(pytoolsDir)); err != nil {
		tb.Fatal(err)
	}
	main := filepath.Join(dir, "main.py")
	code, err := os.ReadFile(main)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(main, append(code, "\n# other code, same version\n"...), 0o644); err != nil {
		tb.Fatal(err)
	}
	data, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return mustFile(tb, "pytools-other.difypkg", data)
}

// mustFile writes a file into a temporary directory and returns its path.
func mustFile(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// zipWithout is a well-formed zip that is not a plugin package.
func zipWithout(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("hello.txt")
	w.Write([]byte("no manifest here"))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// upload chooses a file in the Plugins page's package picker.
func (b *Browser) upload(path string) {
	b.tb.Helper()
	b.Upload("upload-input", path)
}

// runningCard is the selector of a plugin's card once its process runs.
func runningCard(pluginID string) string {
	return `[data-testid="plugin-card"][data-state="running"][data-plugin-id="` + pluginID + `"]`
}

// TestPlugins walks one server through installing, inspecting and removing
// plugins in the browser, and the refusals around it.
func TestPlugins(t *testing.T) {
	skipWithoutChromium(t)
	examples := t.TempDir()
	pkg := MustPackPytools(t, examples)
	srv := MustServe(t, WithExamples(examples))
	owner := MustBrowser(t, srv)
	owner.CreateOwner()

	t.Run("OKUploadInstallDetailUninstall", func(t *testing.T) {
		b := owner
		b.Open("/", "plugins-empty")
		if n := b.Count("example-card"); n != 1 {
			t.Fatalf("%d example cards on the empty page, want 1", n)
		}
		b.Shoot("plugins-empty")
		b.upload(pkg)
		b.Do("preview", chromedp.WaitVisible(tid("install-preview")))
		if got := b.Text("preview-label"); got != "Python Tools" {
			t.Fatalf("preview label %q", got)
		}
		if n := b.Count("preview-tool"); n != 3 {
			t.Fatalf("preview shows %d tools, want 3", n)
		}
		if got := b.Text("preview-signature"); got != "unsigned" {
			t.Fatalf("signature %q", got)
		}
		b.Shoot("install-preview")
		b.Do("install", chromedp.Click(tid("install-submit")), chromedp.WaitVisible(tid("task-progress")))
		b.Do("task succeeds", chromedp.WaitVisible(`[data-testid="task-progress"][data-status="success"]`))
		if got := Eval[string](b, `document.querySelector('[data-testid="task-plugin"]').dataset.stage`); got != "ready" {
			t.Fatalf("last stage %q, want ready", got)
		}
		b.Shoot("install-done")
		b.Do("card running", chromedp.WaitVisible(runningCard("plugboard/pytools")))
		if got := b.Text("plugin-source"); got != "Local upload" {
			t.Fatalf("source %q", got)
		}
		b.Shoot("plugins-installed")

		b.Do("open detail", chromedp.Click(tid("plugin-link")), chromedp.WaitVisible(tid("plugin-detail")))
		if n := b.Count("detail-tool"); n != 3 {
			t.Fatalf("detail shows %d tools", n)
		}
		if n := Eval[int](b, `document.querySelectorAll('[data-tool="echo"] [data-testid="tool-param"]').length`); n != 3 {
			t.Fatalf("echo shows %d parameters, want 3", n)
		}
		if got := b.Text("readme-body"); !strings.Contains(got, "pytools") && !strings.Contains(got, "Python") {
			t.Fatalf("README %q", got)
		}
		b.Do("logs", chromedp.WaitVisible(tid("plugin-logs")))
		if got := b.Text("detail-state"); got != "running" {
			t.Fatalf("detail state %q", got)
		}
		if got := b.Text("detail-python-path"); !strings.HasPrefix(got, "/") || !strings.Contains(b.Text("detail-python"), "3.") {
			t.Fatalf("detail python %q at %q, want the interpreter's version and path", b.Text("detail-python"), got)
		}
		if got := b.Text("detail-containment"); !strings.Contains(got, "no_new_privs") {
			t.Fatalf("detail containment %q", got)
		}
		b.Shoot("plugin-detail")

		b.Do("ask to uninstall", chromedp.Click(tid("uninstall-open")), chromedp.WaitVisible(tid("uninstall-confirm")))
		b.Shoot("uninstall-dialog")
		b.Do("cancel", chromedp.Click(tid("uninstall-cancel")), chromedp.WaitNotVisible(tid("uninstall-dialog")))
		b.Do("uninstall", chromedp.Click(tid("uninstall-open")), chromedp.WaitVisible(tid("uninstall-confirm")),
			chromedp.Click(tid("uninstall-confirm")), chromedp.WaitVisible(tid("plugins-empty")))
		if got := b.Text("flash-success"); !strings.Contains(got, "uninstalled") {
			t.Fatalf("flash %q", got)
		}
		if n := b.Count("plugin-card"); n != 0 {
			t.Fatalf("%d cards after uninstall", n)
		}
	})

	t.Run("OKExampleOneClick", func(t *testing.T) {
		b := owner
		b.Open("/", "plugins-empty")
		b.Do("try the example", chromedp.Click(tid("example-install")), chromedp.WaitVisible(tid("task-progress")))
		b.Shoot("example-installing")
		b.Do("card running", chromedp.WaitVisible(runningCard("plugboard/pytools")))
		b.Open("/tasks", "tasks-page")
		b.Shoot("tasks")
		b.Do("clear finished", chromedp.Click(tid("tasks-clear-all")), chromedp.WaitVisible(tid("tasks-empty")))
	})

	t.Run("OKFilters", func(t *testing.T) {
		b := owner
		b.Open("/", "plugin-filters")
		b.Fill(map[string]string{"filter-q": "no such plugin"})
		b.Do("no match", chromedp.WaitVisible(tid("plugins-no-match")))
		if u := Eval[string](b, `new URLSearchParams(location.search).get("q")`); u != "no such plugin" {
			t.Fatalf("URL query %q", u)
		}
		b.Shoot("plugins-no-match")
		b.Fill(map[string]string{"filter-q": "standard library"})
		b.Do("match by description", chromedp.WaitVisible(runningCard("plugboard/pytools")))
	})

	t.Run("OKSameVersionOtherCodeConfirmed", func(t *testing.T) {
		b := owner
		b.Open("/", "plugins-page")
		b.upload(mustPackOtherCode(t))
		b.Do("preview warns", chromedp.WaitVisible(tid("preview-code-changed")))
		if got := b.Text("preview-code-changed"); !strings.Contains(got, "The code changed.") {
			t.Fatalf("warning %q", got)
		}
		b.Shoot("install-preview-code-changed")
		// Unconfirmed, the browser will not submit the form.
		if Eval[bool](b, `document.querySelector('[data-testid="install-submit"]').form.checkValidity()`) {
			t.Fatal("the install form is valid without the confirmation")
		}
		b.Do("confirm and replace", chromedp.Click(tid("confirm-code-change")), chromedp.Click(tid("install-submit")),
			chromedp.WaitVisible(`[data-testid="task-progress"][data-status="success"]`))
		if got := b.Text("task-message"); !strings.Contains(got, "replaced the code of v0.0.1") {
			t.Fatalf("task message %q", got)
		}
	})

	t.Run("ErrCorruptUpload", func(t *testing.T) {
		b := owner
		b.Open("/", "plugins-page")
		b.upload(mustFile(t, "notazip.difypkg", []byte("this is not a zip file")))
		b.Do("refused", chromedp.WaitVisible(tid("upload-error")))
		notZip := b.Text("upload-error-message")
		b.Shoot("upload-not-zip")
		b.upload(mustFile(t, "nomanifest.difypkg", zipWithout(t)))
		b.Do("refused again", chromedp.WaitVisible(`[data-testid="upload-error"]`),
			chromedp.WaitVisible(`//p[@data-testid="upload-error-message"][contains(., "manifest")]`))
		if notZip == "" || strings.Contains(notZip, "internal") {
			t.Fatalf("not-a-zip message %q", notZip)
		}
	})

	t.Run("ErrTooLarge", func(t *testing.T) {
		b := owner
		b.Open("/", "plugins-page")
		big := mustFile(t, "big.difypkg", make([]byte, 16<<20))
		b.upload(big)
		b.Do("refused before upload", chromedp.WaitVisible(tid("upload-error")))
		if got := b.Text("upload-error-message"); !strings.Contains(got, "15 MiB") {
			t.Fatalf("message %q", got)
		}
		b.Shoot("upload-too-large")
		// The server refuses it too, when the page's check is bypassed.
		got := Eval[string](b, `(() => { const fd = new FormData();
			fd.append("_csrf", document.querySelector("input[name=_csrf]").value);
			fd.append("package", new Blob([new Uint8Array(16 << 20)]), "big.difypkg");
			return fetch("/plugins/upload", {method: "POST", body: fd}).then(r => r.status + " " + r.headers.get("Content-Type")) })()`)
		if !strings.HasPrefix(got, "413 text/html") {
			t.Fatalf("server answered %q", got)
		}
	})

	t.Run("ErrMemberNoInstall", func(t *testing.T) {
		owner.Open("/users", "add-user-form")
		owner.Fill(map[string]string{"input-username": "bob", "input-password": "bob-password"})
		owner.Do("add bob", chromedp.Click(tid("add-user-submit")), chromedp.WaitVisible(`[data-username="bob"]`))
		member := MustBrowser(t, srv)
		login(member, "bob", "bob-password")
		member.Do("sees the plugin", chromedp.WaitVisible(runningCard("plugboard/pytools")))
		for _, id := range []string{"upload-form", "install-panel", "example-install"} {
			if n := member.Count(id); n != 0 {
				t.Fatalf("member sees %d %s", n, id)
			}
		}
		member.Shoot("plugins-member")
		for _, path := range []string{"/examples/install", "/plugins/install", "/plugins/plugboard/pytools/uninstall"} {
			status := Eval[int](member, `fetch("`+path+`", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
				body: new URLSearchParams({_csrf: document.querySelector("input[name=_csrf]").value, file: "pytools.difypkg", uid: "x"})}).then(r => r.status)`)
			if status != 403 {
				t.Fatalf("forged POST %s: status %d, want 403", path, status)
			}
		}
		member.Open("/plugins/plugboard/pytools", "plugin-detail")
		if n := member.Count("uninstall-open"); n != 0 {
			t.Fatal("member sees the uninstall control")
		}
		member.Shoot("plugin-detail-member")
	})
}
