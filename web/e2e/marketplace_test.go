package e2e_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/plugboard/plugboard/app/marketplace"
)

// MustMarketplace serves a marketplace (on loopback) of pytools in each
// version and returns its URL.
func MustMarketplace(tb testing.TB, versions ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, v := range versions {
		data, err := marketplace.PackVersion(pytoolsDir, v)
		if err != nil {
			tb.Fatalf("pack pytools %s: %v", v, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "pytools-"+v+".difypkg"), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	srv := httptest.NewServer(marketplace.NewServer(dir))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// TestMarketplaceInstallUpgrade installs pytools 0.0.1 from the
// Marketplace tab, then upgrades it to 0.0.2 from the detail's version
// picker.
func TestMarketplaceInstallUpgrade(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t, WithMarketplace(MustMarketplace(t, "0.0.1", "0.0.2")))
	b := MustBrowser(t, srv)
	b.CreateOwner()

	b.Do("open the Marketplace tab", chromedp.Click(tid("source-tab-marketplace")), chromedp.WaitVisible(tid("market-card")))
	if got := b.Text("market-version"); got != "v0.0.2" {
		t.Fatalf("card shows %q, want the latest v0.0.2", got)
	}
	b.Shoot("marketplace")
	b.Fill(map[string]string{"market-q": "no such plugin"})
	b.Do("search finds nothing", chromedp.WaitVisible(tid("market-empty")))
	b.Fill(map[string]string{"market-q": "python"})
	b.Do("search finds pytools", chromedp.WaitVisible(tid("market-card")))

	b.Do("open the detail", chromedp.Click(tid("market-link")), chromedp.WaitVisible(tid("market-versions")))
	if n := b.Count("market-version-row"); n != 2 {
		t.Fatalf("%d versions listed, want 2", n)
	}
	b.Shoot("marketplace-detail")
	b.Do("install 0.0.1", chromedp.Click(`[data-testid="market-install"][data-version="0.0.1"]`), chromedp.WaitVisible(tid("install-preview")))
	if got := b.Text("preview-label"); got != "Python Tools" {
		t.Fatalf("preview label %q", got)
	}
	b.Shoot("marketplace-preview")
	b.Do("install", chromedp.Click(tid("install-submit")), chromedp.WaitVisible(`[data-testid="task-progress"][data-status="success"]`))

	b.Open("/", "plugin-list")
	b.Do("card running", chromedp.WaitVisible(runningCard("plugboard/pytools")))
	if got := b.Text("plugin-source"); got != "Marketplace" {
		t.Fatalf("source %q", got)
	}
	if got := b.Text("plugin-version"); got != "v0.0.1" {
		t.Fatalf("version %q", got)
	}
	if got := b.Text("plugin-update"); got != "update v0.0.2" {
		t.Fatalf("update badge %q", got)
	}
	b.Shoot("marketplace-installed")

	b.Do("open the plugin", chromedp.Click(tid("plugin-link")), chromedp.WaitVisible(tid("version-card")))
	if got := b.Text("update-available"); got != "update available: v0.0.2" {
		t.Fatalf("detail badge %q", got)
	}
	b.Shoot("version-picker")
	b.Do("pick 0.0.2", chromedp.SetValue(tid("version-select"), "0.0.2"), chromedp.Click(tid("version-submit")),
		chromedp.WaitVisible(tid("preview-upgrade")))
	b.Shoot("upgrade-preview")
	b.Do("upgrade", chromedp.Click(tid("install-submit")), chromedp.WaitVisible(`[data-testid="task-progress"][data-status="success"]`))

	b.Open("/", "plugin-list")
	b.Do("card running", chromedp.WaitVisible(runningCard("plugboard/pytools")))
	if got := b.Text("plugin-version"); got != "v0.0.2" {
		t.Fatalf("after the upgrade the card shows %q, want v0.0.2", got)
	}
	if n := b.Count("plugin-update"); n != 0 {
		t.Fatal("the update badge stays after the upgrade")
	}
	b.Shoot("marketplace-upgraded")
}
