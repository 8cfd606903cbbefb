package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/daemon"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/manager"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/plugins"
)

// MustDaemon starts a real daemon on loopback with a fresh data directory.
func MustDaemon(tb testing.TB) (string, *client.Client) {
	tb.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := daemon.Start(context.Background(), daemon.Config{
		Addr: "127.0.0.1:0", APIKey: "test-key", Logger: log,
		Manager: manager.Config{DataDir: tb.TempDir(), Limits: pkgfmt.DefaultLimits()},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.Close(ctx)
	})
	return d.URL(), client.New(d.URL(), "test-key")
}

// MustPytools packs the Python example plugin.
func MustPytools(tb testing.TB) []byte {
	tb.Helper()
	data, _, err := pkgfmt.Pack(os.DirFS("../examples/plugins/pytools"), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// MustInstall uploads and installs a package through the client and waits
// for its task.
func MustInstall(tb testing.TB, cl *client.Client, pkg []byte) *apispec.UploadResult {
	tb.Helper()
	ctx := context.Background()
	up, err := cl.UploadPackage(ctx, "p.difypkg", bytes.NewReader(pkg))
	if err != nil {
		tb.Fatal(err)
	}
	res, err := cl.Install(ctx, []string{up.UniqueIdentifier}, "package", nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cl.WaitTask(ctx, res.TaskID); err != nil {
		tb.Fatal(err)
	}
	return up
}

// PostFile uploads a file as the upload form does, from htmx.
func (b *Browser) PostFile(path, name string, data []byte) *Page {
	b.tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("_csrf", b.csrf)
	fw, _ := mw.CreateFormFile("package", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("HX-Request", "true")
	return b.Do(req)
}

// PostHX submits a form as htmx does.
func (b *Browser) PostHX(path string, form url.Values) *Page {
	form.Set("_csrf", b.csrf)
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return b.Do(req)
}

func TestPluginFilters(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	MustInstall(t, cl, MustPytools(t))
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleAdmin)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	for _, tc := range []struct {
		name, query string
		cards       int
	}{
		{"OKAll", "", 1},
		{"OKSearchLabel", "?q=python", 1},
		{"OKSearchDescription", "?q=STANDARD+library", 1},
		{"OKCategoryAndTag", "?category=tool&tag=utilities", 1},
		{"OKNoMatchQuery", "?q=nothing-like-this", 0},
		{"OKNoMatchCategory", "?category=model", 0},
		{"OKNoMatchTag", "?tag=search", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.Get("/" + tc.query)
			wantStatus(t, p, http.StatusOK)
			if n := p.TestID("plugin-card").Length(); n != tc.cards {
				t.Fatalf("%d cards, want %d", n, tc.cards)
			}
			if tc.cards == 0 && p.TestID("plugins-no-match").Length() != 1 {
				t.Fatal("no 'no match' message")
			}
			if tc.cards == 1 && p.Doc.Find(`#plugin-results [data-state="running"]`).Length() != 1 {
				t.Fatalf("card state %q", p.TestID("plugin-state").Text())
			}
		})
	}
	t.Run("OKFilterChoices", func(t *testing.T) {
		p := b.Get("/?tag=utilities")
		if v, _ := p.Doc.Find(`[data-testid=filter-tag] option[selected]`).Attr("value"); v != "utilities" {
			t.Fatalf("selected tag %q", v)
		}
		if p.Doc.Find(`[data-testid=filter-category] option[value=tool]`).Length() != 1 {
			t.Fatal("no tool category choice")
		}
	})
}

func TestUploadPreview(t *testing.T) {
	daemonURL, _ := MustDaemon(t)
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleAdmin)
	app.MustUser(t, "bob", store.RoleMember)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	b.Get("/")
	pkg := MustPytools(t)

	t.Run("OK", func(t *testing.T) {
		p := b.PostFile("/plugins/upload", "pytools.difypkg", pkg)
		wantStatus(t, p, http.StatusOK)
		if got := p.TestID("preview-label").Text(); got != "Python Tools" {
			t.Fatalf("label %q", got)
		}
		if n := p.TestID("preview-tool").Length(); n != 3 {
			t.Fatalf("%d tools", n)
		}
		if got := p.TestID("preview-memory").Text(); got != "128 MiB" {
			t.Fatalf("memory %q", got)
		}
		if got := p.TestID("preview-signature").Text(); got != "unsigned" {
			t.Fatalf("signature %q", got)
		}
		if p.TestID("topbar").Length() != 0 {
			t.Fatal("htmx got a whole page")
		}
	})
	t.Run("ErrNotZip", func(t *testing.T) {
		p := b.PostFile("/plugins/upload", "x.difypkg", []byte("plain text"))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("upload-error-message").Text(); !strings.Contains(got, "zip") {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		// Past the route's body limit: refused before the form is read,
		// with a text htmx shows as a toast.
		p := b.PostFile("/plugins/upload", "big.difypkg", make([]byte, 16<<20))
		wantStatus(t, p, http.StatusRequestEntityTooLarge)
		if p.Body != "This request is too large: a plugin package may be at most 15 MiB." {
			t.Fatalf("message %q", p.Body)
		}
	})
	t.Run("ErrJustOverLimit", func(t *testing.T) {
		// Inside the body limit's room for the form around the file, but
		// over the package limit: the install dialog says so.
		p := b.PostFile("/plugins/upload", "big.difypkg", make([]byte, 15<<20+1))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("upload-error-message").Text(); !strings.Contains(got, "the limit is 15 MiB") {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("ErrNoFile", func(t *testing.T) {
		p := b.PostHX("/plugins/upload", url.Values{})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("upload-error-message").Text(); !strings.Contains(got, "Choose") {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("ErrMemberForbidden", func(t *testing.T) {
		m := app.NewBrowser(t)
		m.MustLogin("bob")
		m.Get("/")
		wantStatus(t, m.PostFile("/plugins/upload", "pytools.difypkg", pkg), http.StatusForbidden)
		wantStatus(t, m.PostHX("/plugins/install", url.Values{"uid": {"plugboard/pytools:0.0.1@x"}}), http.StatusForbidden)
	})
}

func TestInstallTask(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleAdmin)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	b.Get("/")
	up, err := cl.UploadPackage(context.Background(), "p.difypkg", bytes.NewReader(MustPytools(t)))
	if err != nil {
		t.Fatal(err)
	}

	p := b.PostHX("/plugins/install", map[string][]string{
		"uid": {up.UniqueIdentifier}, "source": {"github"},
		"source_meta": {`{"repo":"acme/tools","version":"v0.0.1","package":"p.difypkg"}`},
	})
	wantStatus(t, p, http.StatusOK)
	task := p.TestID("task-progress")
	id, _ := task.Attr("data-task-id")
	if id == "" || p.Header.Get("HX-Trigger") != "tasks-changed" {
		t.Fatalf("no task started: %.400s", p.Body)
	}
	if _, err := cl.WaitTask(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	t.Run("OKSourceRecorded", func(t *testing.T) {
		list, err := cl.List(context.Background(), 1, 10)
		if err != nil || list.Total != 1 {
			t.Fatalf("list %+v, %v", list, err)
		}
		if in := list.List[0]; in.Source != "github" || in.Meta["repo"] != "acme/tools" {
			t.Fatalf("installation source %q meta %v, want github and its repo", in.Source, in.Meta)
		}
	})
	t.Run("ErrUnknownSource", func(t *testing.T) {
		p := b.PostHX("/plugins/install", url.Values{"uid": {up.UniqueIdentifier}, "source": {"ftp"}})
		if p.StatusCode == http.StatusOK || !strings.Contains(p.Body, "Unknown package source") {
			t.Fatalf("status %d body %.300s", p.StatusCode, p.Body)
		}
	})
	t.Run("ErrMalformedSourceMeta", func(t *testing.T) {
		p := b.PostHX("/plugins/install", url.Values{"uid": {up.UniqueIdentifier}, "source": {"github"}, "source_meta": {"{not json"}})
		if p.StatusCode == http.StatusOK || !strings.Contains(p.Body, "malformed") {
			t.Fatalf("status %d body %.300s", p.StatusCode, p.Body)
		}
	})
	t.Run("OKFinished", func(t *testing.T) {
		p := b.Get("/tasks/" + id)
		task := p.TestID("task-progress")
		if st, _ := task.Attr("data-status"); st != apispec.TaskSuccess {
			t.Fatalf("status %q", st)
		}
		if _, polls := task.Attr("hx-trigger"); polls {
			t.Fatal("a finished task still polls")
		}
		if got := p.Header.Get("HX-Trigger"); !strings.Contains(got, "plugins-changed") {
			t.Fatalf("HX-Trigger %q", got)
		}
		if n := p.Doc.Find(`[data-testid=task-stage].stage-done`).Length(); n != 5 {
			t.Fatalf("%d stages done, want 5", n)
		}
	})
	t.Run("OKIndicatorIdle", func(t *testing.T) {
		p := b.Get("/tasks/indicator")
		if v, _ := p.TestID("task-indicator-inner").Attr("data-running"); v != "0" {
			t.Fatalf("running %q", v)
		}
	})
	t.Run("OKUpgradePreview", func(t *testing.T) {
		p := b.PostFile("/plugins/upload", "pytools.difypkg", MustPytools(t))
		if p.TestID("preview-same").Length() != 1 || p.TestID("install-submit").Length() != 0 {
			t.Fatalf("same version offered again: %.400s", p.Body)
		}
	})
	t.Run("OKIcon", func(t *testing.T) {
		p := b.Get("/plugin-icon?uid=" + url.QueryEscape(up.UniqueIdentifier) + "&name=icon.svg")
		wantStatus(t, p, http.StatusOK)
		if ct := p.Header.Get("Content-Type"); ct != "image/svg+xml" {
			t.Fatalf("content type %q", ct)
		}
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
			t.Fatalf("CSP %q", csp)
		}
		if p.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatal("no nosniff")
		}
	})
	t.Run("OKDetail", func(t *testing.T) {
		p := b.Get("/plugins/plugboard/pytools")
		wantStatus(t, p, http.StatusOK)
		if n := p.TestID("detail-tool").Length(); n != 3 {
			t.Fatalf("%d tools", n)
		}
		if p.TestID("readme-body").Find("h1").Length() != 1 {
			t.Fatal("README not rendered")
		}
		if p.TestID("uninstall-open").Length() != 1 {
			t.Fatal("no uninstall control for an admin")
		}
	})
	t.Run("OKClearTask", func(t *testing.T) {
		wantStatus(t, b.PostHX("/tasks/"+id+"/delete", url.Values{}), http.StatusOK)
		if _, err := cl.Task(context.Background(), id); err == nil {
			t.Fatal("task still there")
		}
	})
}

func TestRenderMarkdown(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got := plugins.RenderMarkdown("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
		if !strings.Contains(got, "<h1") || !strings.Contains(got, "<table>") {
			t.Fatalf("rendered %q", got)
		}
	})
	t.Run("ErrRawHTMLEscaped", func(t *testing.T) {
		got := plugins.RenderMarkdown("hi <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n")
		for _, bad := range []string{"<script", "onerror", "javascript:", "<img"} {
			if strings.Contains(got, bad) {
				t.Fatalf("%q survived: %q", bad, got)
			}
		}
	})
}

// pytoolsOtherCode packs the Python example with its code changed and its
// version kept.
func pytoolsOtherCode(tb testing.TB) []byte {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../examples/plugins/pytools")); err != nil {
		tb.Fatal(err)
	}
	f, err := os.OpenFile(dir+"/main.py", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	f.WriteString("\n# other code, same version\n")
	f.Close()
	data, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestInstallSameVersionOtherCode(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	orig := MustInstall(t, cl, MustPytools(t))
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleAdmin)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	b.Get("/")

	p := b.PostFile("/plugins/upload", "pytools.difypkg", pytoolsOtherCode(t))
	wantStatus(t, p, http.StatusOK)
	warn := p.TestID("preview-code-changed")
	if !strings.Contains(warn.Text(), "The code changed.") || p.TestID("preview-upgrade").Length() != 0 {
		t.Fatalf("no code-change warning (or an upgrade offered): %.600s", p.Body)
	}
	box := p.TestID("confirm-code-change")
	if _, required := box.Attr("required"); !required {
		t.Fatal("the confirm checkbox is not required")
	}
	uid, _ := p.TestID("install-preview").Attr("data-uid")
	form := url.Values{"uid": {uid}, "source": {"package"}, "original": {orig.UniqueIdentifier}}

	t.Run("ErrNotConfirmed", func(t *testing.T) {
		p := b.PostHX("/plugins/install", form)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("upload-error-message").Text(); !strings.Contains(got, "installed with other code") {
			t.Fatalf("message %q", got)
		}
		if list, _ := cl.List(context.Background(), 1, 10); list.List[0].PluginUniqueIdentifier != orig.UniqueIdentifier {
			t.Fatalf("refused install replaced the plugin: %+v", list.List[0])
		}
	})
	t.Run("OKConfirmed", func(t *testing.T) {
		confirmed := url.Values{"confirm_code_change": {"1"}}
		for k, v := range form {
			confirmed[k] = v
		}
		p := b.PostHX("/plugins/install", confirmed)
		wantStatus(t, p, http.StatusOK)
		id, _ := p.TestID("task-progress").Attr("data-task-id")
		task, err := cl.WaitTask(context.Background(), id)
		if err != nil || task.Status != apispec.TaskSuccess {
			t.Fatalf("task %+v, %v", task, err)
		}
		if list, _ := cl.List(context.Background(), 1, 10); list.List[0].PluginUniqueIdentifier != uid {
			t.Fatalf("installation %+v, want %s", list.List[0], uid)
		}
	})
}

func TestPluginSettingsCard(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	MustInstall(t, cl, MustPytools(t))
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleAdmin)
	app.MustUser(t, "bob", store.RoleMember)
	b := app.NewBrowser(t)
	b.MustLogin("ann")
	const path = "/plugins/plugboard/pytools"

	t.Run("OKDefaultShown", func(t *testing.T) {
		p := b.Get(path)
		if got := p.TestID("invoke-timeout-now").Text(); got != "600 s (the daemon's default)" {
			t.Fatalf("timeout shown %q", got)
		}
	})
	t.Run("OKSaved", func(t *testing.T) {
		wantRedirect(t, b.Post(path+"/settings", url.Values{"invoke_timeout": {"30"}}), path)
		st, err := cl.PluginSettings(context.Background(), "plugboard/pytools")
		if err != nil || st.InvokeTimeoutSeconds != 30 {
			t.Fatalf("daemon settings %+v, %v", st, err)
		}
		p := b.Get(path)
		if got := p.TestID("invoke-timeout-now").Text(); got != "30 s (set for this plugin)" {
			t.Fatalf("timeout shown %q", got)
		}
		if v, _ := p.TestID("invoke-timeout").Attr("value"); v != "30" {
			t.Fatalf("field value %q", v)
		}
	})
	t.Run("ErrBadValue", func(t *testing.T) {
		p := b.Post(path+"/settings", url.Values{"invoke_timeout": {"-3"}})
		if p.StatusCode < 400 || !strings.Contains(p.Body, "is not a whole number of seconds") {
			t.Fatalf("status %d body %.300s", p.StatusCode, p.Body)
		}
	})
	t.Run("ErrMember", func(t *testing.T) {
		m := app.NewBrowser(t)
		m.MustLogin("bob")
		if m.Get(path).TestID("detail-settings").Length() != 0 {
			t.Fatal("a member sees the settings card")
		}
		wantStatus(t, m.Post(path+"/settings", url.Values{"invoke_timeout": {"5"}}), http.StatusForbidden)
	})
}
