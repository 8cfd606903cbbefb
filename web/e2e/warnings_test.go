package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
)

// MustPackWarned packs a copy of the Python example renamed pywarned, with
// what Dify accepts but Plugboard warns about (a select default that is
// not among its options) and an endpoint group, into dir.
func MustPackWarned(tb testing.TB, dir string) string {
	tb.Helper()
	src := filepath.Join(tb.TempDir(), "pywarned")
	if err := os.CopyFS(src, os.DirFS(pytoolsDir)); err != nil {
		tb.Fatal(err)
	}
	edit := func(name, old, new string) {
		p := filepath.Join(src, name)
		data, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(data), old) {
			tb.Fatalf("%s lacks %q (%v)", name, old, err)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	edit("manifest.yaml", "name: pytools", "name: pywarned")
	edit("manifest.yaml", "    - provider/pytools.yaml\n", "    - provider/pytools.yaml\n  endpoints:\n    - group/hooks.yaml\n")
	edit("tools/echo.yaml", "  - name: upper\n", `  - name: style
    type: select
    required: false
    form: form
    default: loud
    label:
      en_US: Style
    human_description:
      en_US: How to echo.
    options:
      - value: plain
        label:
          en_US: Plain
  - name: upper
`)
	for name, body := range map[string]string{
		"group/hooks.yaml":    "settings:\n  - name: token\n    type: secret-input\n    required: true\n    label:\n      en_US: Token\nendpoints:\n  - endpoints/hook.yaml\n",
		"endpoints/hook.yaml": "path: /hook\nmethod: POST\nextra:\n  python:\n    source: endpoints/hook.py\n",
		"endpoints/hook.py":   "# served by the endpoint, once Plugboard runs endpoints\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	data, _, err := pkgfmt.Pack(os.DirFS(src), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatalf("pack pywarned: %v", err)
	}
	p := filepath.Join(dir, "pywarned.difypkg")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestPreviewWarnings uploads a package Dify accepts but that has a
// warning and an endpoint: the preview lists the warning (file, field,
// line) and the endpoint as not run yet, and the plugin still installs.
func TestPreviewWarnings(t *testing.T) {
	skipWithoutChromium(t)
	pkg := MustPackWarned(t, t.TempDir())
	srv := MustServe(t)
	b := MustBrowser(t, srv)
	b.CreateOwner()

	b.upload(pkg)
	b.Do("preview", chromedp.WaitVisible(tid("preview-warnings")))
	if n := b.Count("preview-warning"); n != 1 {
		t.Fatalf("preview shows %d warnings, want 1", n)
	}
	got := b.Text("preview-warning")
	for _, want := range []string{"tools/echo.yaml: parameters[1].default, line 24", `default "loud" is not one of the options`} {
		if !strings.Contains(got, want) {
			t.Errorf("warning %q does not say %q", got, want)
		}
	}
	if !strings.Contains(b.Text("preview-not-dispatched"), "does not run them yet") {
		t.Errorf("no notice that endpoints are not run: %q", b.Text("preview-not-dispatched"))
	}
	if got := Eval[string](b, `document.querySelector('[data-testid="preview-endpoint"]').dataset.path`); got != "/hook" {
		t.Errorf("endpoint path %q", got)
	}
	b.Shoot("install-preview-warnings")
	b.Do("install", chromedp.Click(tid("install-submit")), chromedp.WaitVisible(`[data-testid="task-progress"][data-status="success"]`))
	b.Open("/plugins/plugboard/pywarned", "plugin-detail")
	if n := b.Count("detail-endpoint"); n != 1 {
		t.Fatalf("detail shows %d endpoints, want 1", n)
	}
	b.Shoot("plugin-detail-declarations")
}
