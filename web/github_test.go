package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/plugboard/plugboard/app/github/githubtest"
	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/daemon/pkgfmt"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web"
	"github.com/plugboard/plugboard/web/guard"
	"golang.org/x/crypto/bcrypt"
)

// GitHubApp is the admin app with a real daemon, a keyring, captured logs
// and a GitHub stand-in holding plugboard/pytools v0.1.0.
type GitHubApp struct {
	*App
	Daemon *client.Client
	GitHub *githubtest.Server
	Logs   *syncBuffer
	Path   string
}

// MustGitHubApp starts it all; the stand-in is allowlisted explicitly.
func MustGitHubApp(tb testing.TB) *GitHubApp {
	tb.Helper()
	ctx := context.Background()
	daemonURL, cl := MustDaemon(tb)
	gh := githubtest.New()
	gh.AddRelease("plugboard/pytools", githubtest.Release{Tag: "v0.1.0", Assets: []githubtest.Asset{
		{Name: "pytools-0.1.0.difypkg", Data: MustPytools(tb)},
	}})
	gh.AddRepo("plugboard/empty")
	gh.AddRelease("plugboard/sources", githubtest.Release{Tag: "v1", Assets: []githubtest.Asset{{Name: "src.tar.gz", Data: []byte("x")}}})
	ghSrv := httptest.NewServer(gh)
	tb.Cleanup(ghSrv.Close)

	dir := tb.TempDir()
	path := filepath.Join(dir, "plugboard.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	db.HashCost = bcrypt.MinCost
	keys, err := secret.Open(ctx, dir, "", db)
	if err != nil {
		tb.Fatal(err)
	}
	logs := &syncBuffer{}
	sk, _ := guard.LoadSessionKeys(filepath.Join(dir, "session-keys"))
	srv := httptest.NewServer(web.New(web.Config{
		Store: db, Keys: keys, Daemon: cl, DaemonURL: daemonURL, SessionKeys: sk,
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OutboundAllow: netguard.MustParseAllowlist("127.0.0.1"), GitHubAPIURL: ghSrv.URL,
	}))
	tb.Cleanup(func() { srv.Close(); db.Close() })
	return &GitHubApp{App: &App{URL: srv.URL, Store: db}, Daemon: cl, GitHub: gh, Logs: logs, Path: path}
}

// GetHX fetches a path as htmx does.
func (b *Browser) GetHX(path string) *Page {
	req, _ := http.NewRequest(http.MethodGet, b.app.URL+path, nil)
	req.Header.Set("HX-Request", "true")
	return b.Do(req)
}

// mustAdmin signs in an admin.
func (a *GitHubApp) mustAdmin(tb testing.TB) *Browser {
	tb.Helper()
	a.MustUser(tb, "ann", store.RoleAdmin)
	b := a.NewBrowser(tb)
	b.MustLogin("ann")
	b.Get("/github")
	return b
}

func previewForm(repo, tag, pkg string) url.Values {
	return url.Values{"repo": {repo}, "version": {tag}, "package": {pkg}}
}

func TestGitHubInstall(t *testing.T) {
	app := MustGitHubApp(t)
	b := app.mustAdmin(t)

	p := b.GetHX("/github/releases?repo=" + url.QueryEscape("https://github.com/plugboard/pytools.git"))
	wantStatus(t, p, http.StatusOK)
	if rel := p.TestID("github-release"); rel.Length() != 1 || rel.AttrOr("data-tag", "") != "v0.1.0" {
		t.Fatalf("releases: %.600s", p.Body)
	}
	if a := p.TestID("github-asset"); a.AttrOr("data-asset", "") != "pytools-0.1.0.difypkg" {
		t.Fatalf("asset: %.600s", p.Body)
	}

	p = b.PostHX("/github/preview", previewForm("plugboard/pytools", "v0.1.0", "pytools-0.1.0.difypkg"))
	wantStatus(t, p, http.StatusOK)
	form := p.Doc.Find(`form[action="/plugins/install"]`)
	uid := form.Find(`input[name=uid]`).AttrOr("value", "")
	if uid == "" || form.Find(`input[name=source]`).AttrOr("value", "") != "github" {
		t.Fatalf("preview: %.800s", p.Body)
	}
	p = b.PostHX("/plugins/install", url.Values{"uid": {uid}, "source": {"github"}, "source_meta": {form.Find(`input[name=source_meta]`).AttrOr("value", "")}})
	id := p.TestID("task-progress").AttrOr("data-task-id", "")
	if id == "" {
		t.Fatalf("no task: %.600s", p.Body)
	}
	if _, err := app.Daemon.WaitTask(context.Background(), id); err != nil {
		t.Fatal(err)
	}

	t.Run("OKSourceRecorded", func(t *testing.T) {
		list, err := app.Daemon.List(context.Background(), 1, 10)
		if err != nil || list.Total != 1 {
			t.Fatalf("list %+v, %v", list, err)
		}
		in := list.List[0]
		want := map[string]any{"repo": "plugboard/pytools", "version": "v0.1.0", "package": "pytools-0.1.0.difypkg"}
		got, _ := json.Marshal(in.Meta)
		wantJSON, _ := json.Marshal(want)
		if in.Source != "github" || !bytes.Equal(got, wantJSON) {
			t.Fatalf("source %q meta %s, want github %s", in.Source, got, wantJSON)
		}
	})
	t.Run("OKUpToDate", func(t *testing.T) {
		p := b.GetHX("/github/updates/plugboard/pytools")
		if p.TestID("github-up-to-date").Length() != 1 {
			t.Fatalf("updates: %.600s", p.Body)
		}
	})
	t.Run("OKUpdateListed", func(t *testing.T) {
		if d := b.Get("/plugins/plugboard/pytools"); d.TestID("github-check-updates").Length() != 1 {
			t.Fatalf("detail has no check-for-updates: %.300s", d.TestID("github-updates").Text())
		}
		app.GitHub.AddRelease("plugboard/pytools", githubtest.Release{Tag: "v0.2.0", Assets: []githubtest.Asset{
			{Name: "pytools-0.2.0.difypkg", Data: MustPytools(t)},
		}})
		p := b.GetHX("/github/updates/plugboard/pytools")
		if u := p.TestID("github-update"); u.Length() != 1 || u.AttrOr("data-tag", "") != "v0.2.0" {
			t.Fatalf("updates: %.600s", p.Body)
		}
	})
	t.Run("ErrOtherPlugin", func(t *testing.T) {
		f := previewForm("plugboard/pytools", "v0.1.0", "pytools-0.1.0.difypkg")
		f.Set("upgrade", "plugboard/gotools")
		p := b.PostHX("/github/preview", f)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if msg := p.TestID("upload-error-message").Text(); !strings.Contains(msg, "This package is the plugin plugboard/pytools, not plugboard/gotools") {
			t.Fatalf("message %q", msg)
		}
	})
}

func TestGitHubBadInputs(t *testing.T) {
	app := MustGitHubApp(t)
	b := app.mustAdmin(t)
	lists := map[string]string{
		"ErrBadRepo":    "not a GitHub repository",
		"ErrNotFound":   "GitHub has no repository nobody/nothing",
		"ErrNoReleases": "plugboard/empty has no releases",
		"ErrNoPackage":  "None of the 1 releases of plugboard/sources has a .difypkg asset",
	}
	repos := map[string]string{"ErrBadRepo": "not a repo", "ErrNotFound": "nobody/nothing", "ErrNoReleases": "plugboard/empty", "ErrNoPackage": "plugboard/sources"}
	for name, says := range lists {
		t.Run(name, func(t *testing.T) {
			p := b.GetHX("/github/releases?repo=" + url.QueryEscape(repos[name]))
			if msg := p.TestID("github-error").Text(); !strings.Contains(msg, says) {
				t.Fatalf("error %q, want %q", msg, says)
			}
		})
	}
	t.Run("ErrNoSuchAsset", func(t *testing.T) {
		p := b.PostHX("/github/preview", previewForm("plugboard/pytools", "v0.1.0", "other.difypkg"))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if msg := p.TestID("upload-error-message").Text(); !strings.Contains(msg, `no package named "other.difypkg"`) {
			t.Fatalf("message %q", msg)
		}
	})
	t.Run("ErrRateLimited", func(t *testing.T) {
		app.GitHub.RateLimited = true
		defer func() { app.GitHub.RateLimited = false }()
		p := b.GetHX("/github/releases?repo=plugboard/pytools")
		if msg := p.TestID("github-error").Text(); !strings.Contains(msg, "rate limit is used up") {
			t.Fatalf("error %q", msg)
		}
	})
	t.Run("ErrMember", func(t *testing.T) {
		app.MustUser(t, "mo", store.RoleMember)
		m := app.NewBrowser(t)
		m.MustLogin("mo")
		wantStatus(t, m.Get("/github"), http.StatusForbidden)
		wantStatus(t, m.PostHX("/github/preview", previewForm("plugboard/pytools", "v0.1.0", "pytools-0.1.0.difypkg")), http.StatusForbidden)
	})
}

func TestGitHubToken(t *testing.T) {
	const token = "ghp_VERYSECRETtoken987654"
	app := MustGitHubApp(t)
	b := app.mustAdmin(t)
	base := b.Get("/github").Doc.Find(`input[name=base_url]`).AttrOr("value", "")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base_url shown %q, want the server's stand-in", base)
	}
	wantRedirect(t, b.Post("/github/settings", url.Values{"base_url": {base}, "token": {token}}), "/github")

	p := b.Get("/github")
	masked := p.Doc.Find(`input[name=token]`).AttrOr("value", "")
	t.Run("OKMasked", func(t *testing.T) {
		if masked == "" || strings.Contains(p.Body, token) || strings.Contains(p.Body, "VERYSECRET") {
			t.Fatalf("token shown as %q; page holds it: %v", masked, strings.Contains(p.Body, "VERYSECRET"))
		}
	})
	t.Run("OKMaskedResaveKeeps", func(t *testing.T) {
		wantRedirect(t, b.Post("/github/settings", url.Values{"base_url": {base}, "token": {masked}}), "/github")
		set, err := app.Store.GitHubSettings(context.Background(), mustKeys(t, app))
		if err != nil || set.Token() != token {
			t.Fatalf("token after masked re-save %q, %v", set.Token(), err)
		}
	})
	t.Run("OKSentAsBearer", func(t *testing.T) {
		p := b.PostHX("/github/preview", previewForm("plugboard/pytools", "v0.1.0", "pytools-0.1.0.difypkg"))
		wantStatus(t, p, http.StatusOK)
		auth := app.GitHub.Authorizations()
		if last := auth[len(auth)-1]; last != "Bearer "+token {
			t.Fatalf("Authorization %q", last)
		}
		if strings.Contains(p.Body, "VERYSECRET") {
			t.Fatal("the preview holds the token")
		}
	})
	t.Run("OKEncryptedAtRest", func(t *testing.T) {
		for _, f := range []string{app.Path, app.Path + "-wal"} {
			raw, _ := os.ReadFile(f)
			if bytes.Contains(raw, []byte("VERYSECRET")) {
				t.Fatalf("%s holds the token in clear", filepath.Base(f))
			}
		}
	})
	t.Run("OKNotLogged", func(t *testing.T) {
		if strings.Contains(app.Logs.String(), "VERYSECRET") {
			t.Fatal("a log line holds the token")
		}
	})
	t.Run("ErrBadBaseURL", func(t *testing.T) {
		p := b.Post("/github/settings", url.Values{"base_url": {"ftp://x"}, "token": {"ghp_new1234567"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if p.TestID("field-error-base_url").Length() == 0 && !strings.Contains(p.Body, "ftp scheme") {
			t.Fatalf("no base_url error: %.600s", p.Body)
		}
		if strings.Contains(p.Body, "ghp_new1234567") {
			t.Fatal("a typed token was sent back")
		}
	})
}

// mustKeys opens the app's keyring again from its data directory.
func mustKeys(tb testing.TB, app *GitHubApp) *secret.Keyring {
	tb.Helper()
	keys, err := secret.Open(context.Background(), filepath.Dir(app.Path), "", app.Store)
	if err != nil {
		tb.Fatal(err)
	}
	return keys
}

// MustPytoolsVersion packs pytools with another version in its manifest.
func MustPytoolsVersion(tb testing.TB, version string) []byte {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../examples/plugins/pytools")); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "manifest.yaml")
	m, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	m = bytes.Replace(m, []byte("version: 0.0.1\n"), []byte("version: "+version+"\n"), 1)
	if err := os.WriteFile(path, m, 0o644); err != nil {
		tb.Fatal(err)
	}
	data, _, err := pkgfmt.Pack(os.DirFS(dir), pkgfmt.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// TestGitHubUpgrade upgrades a plugin installed from GitHub to a newer
// release found by "check for updates", and the source follows.
func TestGitHubUpgrade(t *testing.T) {
	app := MustGitHubApp(t)
	b := app.mustAdmin(t)
	mustGitHubInstall(t, app, b, previewForm("plugboard/pytools", "v0.1.0", "pytools-0.1.0.difypkg"), "")
	app.GitHub.AddRelease("plugboard/pytools", githubtest.Release{Tag: "v0.2.0", Assets: []githubtest.Asset{
		{Name: "pytools-0.2.0.difypkg", Data: MustPytoolsVersion(t, "0.0.2")},
	}})

	p := b.GetHX("/github/updates/plugboard/pytools")
	form := p.Doc.Find(`[data-testid="github-update"] form`)
	f := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		f.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	if f.Get("upgrade") != "plugboard/pytools" || f.Get("version") != "v0.2.0" {
		t.Fatalf("update form %v", f)
	}
	mustGitHubInstall(t, app, b, f, "upgrade")

	list, err := app.Daemon.List(context.Background(), 1, 10)
	if err != nil || list.Total != 1 {
		t.Fatalf("list %+v, %v", list, err)
	}
	if in := list.List[0]; in.Version != "0.0.2" || in.Source != "github" || in.Meta["version"] != "v0.2.0" || in.Meta["package"] != "pytools-0.2.0.difypkg" {
		t.Fatalf("after upgrade: version %s source %s meta %v", in.Version, in.Source, in.Meta)
	}
}

// mustGitHubInstall previews form's asset and installs (or, with want
// "upgrade", upgrades to) it, waiting for the task.
func mustGitHubInstall(tb testing.TB, app *GitHubApp, b *Browser, f url.Values, want string) {
	tb.Helper()
	p := b.PostHX("/github/preview", f)
	wantStatus(tb, p, http.StatusOK)
	form := p.Doc.Find(`form[action="/plugins/install"]`)
	vals := url.Values{}
	form.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		vals.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	if want == "upgrade" && (vals.Get("original") == "" || p.TestID("preview-upgrade").Length() != 1) {
		tb.Fatalf("preview offers no upgrade: %.600s", p.Body)
	}
	p = b.PostHX("/plugins/install", vals)
	id := p.TestID("task-progress").AttrOr("data-task-id", "")
	if id == "" {
		tb.Fatalf("no task: %.600s", p.Body)
	}
	if _, err := app.Daemon.WaitTask(context.Background(), id); err != nil {
		tb.Fatal(err)
	}
}
