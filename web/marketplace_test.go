package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/app/marketplace"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web"
	"github.com/plugboard/plugboard/web/guard"
	"golang.org/x/crypto/bcrypt"
)

// MustMarketFolder writes pytools in each version to a new folder.
func MustMarketFolder(tb testing.TB, versions ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, v := range versions {
		data, err := marketplace.PackVersion("../examples/plugins/pytools", v)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pytools-"+v+".difypkg"), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// MustMarketApp starts the app like MustApp with cfg's Examples and
// MarketplaceURL.
func MustMarketApp(tb testing.TB, daemonURL string, cfg web.Config) *App {
	tb.Helper()
	dir := tb.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "plugboard.db"))
	if err != nil {
		tb.Fatal(err)
	}
	db.HashCost = bcrypt.MinCost
	keys, err := guard.LoadSessionKeys(filepath.Join(dir, "session-keys"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Store, cfg.Daemon, cfg.DaemonURL, cfg.SessionKeys = db, client.New(daemonURL, "test-key"), daemonURL, keys
	srv := httptest.NewServer(web.New(cfg))
	tb.Cleanup(func() { srv.Close(); db.Close() })
	app := &App{URL: srv.URL, Store: db}
	app.MustUser(tb, "ann", store.RoleAdmin)
	app.MustUser(tb, "bob", store.RoleMember)
	return app
}

func TestMarketplace(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	folder := MustMarketFolder(t, "0.0.1", "0.0.2")
	app := MustMarketApp(t, daemonURL, web.Config{Examples: folder})
	ann := app.NewBrowser(t)
	ann.MustLogin("ann")
	bob := app.NewBrowser(t)
	bob.MustLogin("bob")

	t.Run("OKList", func(t *testing.T) {
		p := ann.Get("/marketplace")
		wantStatus(t, p, http.StatusOK)
		if n := p.TestID("market-card").Length(); n != 1 {
			t.Fatalf("%d cards", n)
		}
		if got := p.TestID("market-version").Text(); got != "v0.0.2" {
			t.Fatalf("version %q", got)
		}
		if got := p.TestID("source-tab-marketplace").AttrOr("aria-current", ""); got != "page" {
			t.Fatalf("marketplace tab not current: %q", got)
		}
	})
	t.Run("OKFilters", func(t *testing.T) {
		for _, q := range []string{"q=nothing+like+this", "category=model", "tag=weather"} {
			p := ann.Get("/marketplace?" + q)
			if p.TestID("market-empty").Length() != 1 || p.TestID("market-card").Length() != 0 {
				t.Fatalf("%s: a card shows", q)
			}
		}
		if n := ann.Get("/marketplace?q=python&tag=utilities&category=tool").TestID("market-card").Length(); n != 1 {
			t.Fatalf("%d cards for a matching search", n)
		}
	})
	t.Run("OKDetail", func(t *testing.T) {
		p := ann.Get("/marketplace/plugboard/pytools")
		wantStatus(t, p, http.StatusOK)
		if n := p.TestID("market-version-row").Length(); n != 2 {
			t.Fatalf("%d versions", n)
		}
		if n := p.TestID("market-install").Length(); n != 2 {
			t.Fatalf("%d install buttons for an admin", n)
		}
		if n := bob.Get("/marketplace/plugboard/pytools").TestID("market-install").Length(); n != 0 {
			t.Fatalf("%d install buttons for a member", n)
		}
	})
	t.Run("ErrDetailUnknown", func(t *testing.T) {
		wantStatus(t, ann.Get("/marketplace/plugboard/nothing"), http.StatusNotFound)
	})
	t.Run("OKInstallPreview", func(t *testing.T) {
		p := ann.PostHX("/marketplace/install", url.Values{"plugin_id": {"plugboard/pytools"}, "version": {"0.0.1"}})
		wantStatus(t, p, http.StatusOK)
		if got := p.TestID("preview-label").Text(); got != "Python Tools" {
			t.Fatalf("label %q", got)
		}
		if got := p.Doc.Find(`input[name="source"]`).AttrOr("value", ""); got != "marketplace" {
			t.Fatalf("source %q", got)
		}
		if got := p.Doc.Find(`input[name="source_meta"]`).AttrOr("value", ""); !strings.Contains(got, `"plugin_unique_identifier":"plugboard/pytools:0.0.1@`) {
			t.Fatalf("source meta %q", got)
		}
	})
	t.Run("ErrNoSuchVersion", func(t *testing.T) {
		p := ann.PostHX("/marketplace/install", url.Values{"plugin_id": {"plugboard/pytools"}, "version": {"9.9.9"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("upload-error-message").Text(); !strings.Contains(got, "no version 9.9.9 of plugboard/pytools") {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("ErrMemberForbidden", func(t *testing.T) {
		wantStatus(t, bob.PostHX("/marketplace/install", url.Values{"plugin_id": {"plugboard/pytools"}, "version": {"0.0.1"}}), http.StatusForbidden)
	})
	t.Run("OKUpdateBadgeAndPicker", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(folder, "pytools-0.0.1.difypkg"))
		if err != nil {
			t.Fatal(err)
		}
		up := MustUpload(t, cl, data)
		res, err := cl.Install(t.Context(), []string{up}, "marketplace", []map[string]any{{"plugin_unique_identifier": up}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.WaitTask(t.Context(), res.TaskID); err != nil {
			t.Fatal(err)
		}
		if got := ann.Get("/").TestID("plugin-update").Text(); got != "update v0.0.2" {
			t.Fatalf("badge %q", got)
		}
		p := ann.Get("/plugins/plugboard/pytools")
		if got := p.TestID("update-available").Text(); got != "update available: v0.0.2" {
			t.Fatalf("detail badge %q", got)
		}
		opts := p.Doc.Find(`[data-testid="version-select"] option`)
		if opts.Length() != 1 || opts.AttrOr("value", "") != "0.0.2" || !strings.Contains(opts.Text(), "Upgrade") {
			t.Fatalf("picker offers %d versions: %q", opts.Length(), opts.Text())
		}
		if n := bob.Get("/plugins/plugboard/pytools").TestID("version-select").Length(); n != 0 {
			t.Fatal("a member sees the version picker")
		}
	})
}

func TestMarketplaceUnreachable(t *testing.T) {
	daemonURL, _ := MustDaemon(t)
	app := MustMarketApp(t, daemonURL, web.Config{MarketplaceURL: "http://127.0.0.1:1"})
	ann := app.NewBrowser(t)
	ann.MustLogin("ann")
	p := ann.Get("/marketplace")
	wantStatus(t, p, http.StatusOK)
	if got := p.TestID("marketplace-error").Text(); !strings.Contains(got, "The marketplace at 127.0.0.1:1 failed: it can't be reached") {
		t.Fatalf("error %q", got)
	}
}

// MustUpload stores a package in the daemon and returns its identifier.
func MustUpload(tb testing.TB, cl *client.Client, pkg []byte) string {
	tb.Helper()
	up, err := cl.UploadPackage(context.Background(), "p.difypkg", bytes.NewReader(pkg))
	if err != nil {
		tb.Fatal(err)
	}
	return up.UniqueIdentifier
}

func TestMarketplaceIcon(t *testing.T) {
	daemonURL, _ := MustDaemon(t)
	app := MustMarketApp(t, daemonURL, web.Config{Examples: MustMarketFolder(t, "0.0.1")})
	ann := app.NewBrowser(t)
	ann.MustLogin("ann")
	t.Run("OK", func(t *testing.T) {
		src := ann.Get("/marketplace").Doc.Find(`[data-testid="market-card"] img.plugin-icon`).AttrOr("src", "")
		if src != "/marketplace/plugboard/pytools/0.0.1/icon" {
			t.Fatalf("icon src %q", src)
		}
		p := ann.Get(src)
		wantStatus(t, p, http.StatusOK)
		if ct, csp := p.Header.Get("Content-Type"), p.Header.Get("Content-Security-Policy"); ct != "image/svg+xml" || csp == "" {
			t.Fatalf("icon served as %q with CSP %q", ct, csp)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		wantStatus(t, ann.Get("/marketplace/plugboard/pytools/9.9.9/icon"), http.StatusNotFound)
	})
}

func TestMarketplacePermission(t *testing.T) {
	daemonURL, _ := MustDaemon(t)
	app := MustMarketApp(t, daemonURL, web.Config{Examples: MustMarketFolder(t, "0.0.1")})
	bob := app.NewBrowser(t)
	bob.MustLogin("bob")
	t.Run("OKEveryoneInstalls", func(t *testing.T) {
		if err := app.Store.SetPermissions(t.Context(), "ann", store.Permissions{Install: store.PermEveryone, Debug: store.PermAdmins}); err != nil {
			t.Fatal(err)
		}
		if n := bob.Get("/marketplace/plugboard/pytools").TestID("market-install").Length(); n != 1 {
			t.Fatalf("a member allowed to install sees %d install buttons", n)
		}
		p := bob.PostHX("/marketplace/install", url.Values{"plugin_id": {"plugboard/pytools"}, "version": {"0.0.1"}})
		wantStatus(t, p, http.StatusOK)
	})
	t.Run("ErrNobodyInstalls", func(t *testing.T) {
		if err := app.Store.SetPermissions(t.Context(), "ann", store.Permissions{Install: store.PermNobody, Debug: store.PermAdmins}); err != nil {
			t.Fatal(err)
		}
		if n := bob.Get("/marketplace/plugboard/pytools").TestID("market-install").Length(); n != 0 {
			t.Fatalf("%d install buttons when no one may install", n)
		}
		wantStatus(t, bob.PostHX("/marketplace/install", url.Values{"plugin_id": {"plugboard/pytools"}, "version": {"0.0.1"}}), http.StatusForbidden)
	})
}

// TestMarketplaceLatestCached: the Plugins page keeps the marketplace's
// latest versions for a while, so the badge stays (and the page does not
// wait on the marketplace) when the marketplace goes away.
func TestMarketplaceLatestCached(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	folder := MustMarketFolder(t, "0.0.1", "0.0.2")
	market := httptest.NewServer(marketplace.NewServer(folder))
	app := MustMarketApp(t, daemonURL, web.Config{MarketplaceURL: market.URL})
	ann := app.NewBrowser(t)
	ann.MustLogin("ann")
	MustMarketInstall(t, cl, folder, "0.0.1")

	if got := ann.Get("/").TestID("plugin-update").Text(); got != "update v0.0.2" {
		t.Fatalf("badge %q with the marketplace up", got)
	}
	market.Close()
	if got := ann.Get("/").TestID("plugin-update").Text(); got != "update v0.0.2" {
		t.Fatalf("badge %q once the marketplace is gone, want the kept answer", got)
	}
}
