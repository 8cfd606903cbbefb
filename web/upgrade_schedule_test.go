package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web"
)

// MustMarketInstall installs pytools at version from the marketplace
// folder through the daemon client, recording source marketplace.
func MustMarketInstall(tb testing.TB, cl *client.Client, folder, version string) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(folder, "pytools-"+version+".difypkg"))
	if err != nil {
		tb.Fatal(err)
	}
	up := MustUpload(tb, cl, data)
	res, err := cl.Install(context.Background(), []string{up}, "marketplace", []map[string]any{{"plugin_unique_identifier": up}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cl.WaitTask(context.Background(), res.TaskID); err != nil {
		tb.Fatal(err)
	}
}

func TestAutoUpgradeSetting(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	folder := MustMarketFolder(t, "0.0.1", "0.0.2")
	MustMarketInstall(t, cl, folder, "0.0.1")
	app := MustMarketApp(t, daemonURL, web.Config{Examples: folder})
	ann := app.NewBrowser(t)
	ann.MustLogin("ann")
	ann.Get("/plugins/plugboard/pytools")

	t.Run("OK", func(t *testing.T) {
		p := ann.Post("/plugins/plugboard/pytools/auto-upgrade", url.Values{"strategy": {"patch"}, "time": {"04:30"}})
		wantRedirect(t, p, "/plugins/plugboard/pytools")
		a, err := app.Store.AutoUpgrade(t.Context(), "plugboard/pytools")
		if err != nil || a.Strategy != store.AutoUpgradePatch || a.TimeOfDay() != "04:30" {
			t.Fatalf("stored %+v, %v", a, err)
		}
		d := ann.Get("/plugins/plugboard/pytools")
		if got := d.Doc.Find(`[data-testid="auto-strategy"] option[selected]`).AttrOr("value", ""); got != "patch" {
			t.Fatalf("form shows strategy %q", got)
		}
		if got := d.TestID("auto-time").AttrOr("value", ""); got != "04:30" {
			t.Fatalf("form shows time %q", got)
		}
	})
	t.Run("ErrTime", func(t *testing.T) {
		p := ann.Post("/plugins/plugboard/pytools/auto-upgrade", url.Values{"strategy": {"latest"}, "time": {"25:00"}})
		if p.StatusCode == http.StatusSeeOther || !strings.Contains(p.Doc.Text(), `"25:00" is not a time of day`) {
			t.Fatalf("status %d, page %q", p.StatusCode, p.Doc.Text())
		}
	})
	t.Run("ErrStrategy", func(t *testing.T) {
		p := ann.Post("/plugins/plugboard/pytools/auto-upgrade", url.Values{"strategy": {"sometimes"}, "time": {"04:00"}})
		if p.StatusCode == http.StatusSeeOther || !strings.Contains(p.Doc.Text(), `unknown auto-upgrade strategy "sometimes"`) {
			t.Fatalf("status %d, page %q", p.StatusCode, p.Doc.Text())
		}
	})
}
