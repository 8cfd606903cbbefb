package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// installedVersion is pytools' installed version.
func installedVersion(tb testing.TB, cl *client.Client) string {
	tb.Helper()
	page, err := cl.List(context.Background(), 1, 10)
	if err != nil || len(page.List) != 1 {
		tb.Fatalf("list = %+v, %v", page, err)
	}
	return page.List[0].Version
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

func TestAutoUpgradeOnce(t *testing.T) {
	_, cl := MustDaemon(t)
	folder := MustMarketFolder(t, "0.0.1", "0.0.2")
	MustMarketInstall(t, cl, folder, "0.0.1")
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "plugboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
	srv := web.New(web.Config{Store: db, Daemon: cl, Examples: folder, Now: func() time.Time { return now }})
	if err := db.SetAutoUpgrade(t.Context(), store.AutoUpgrade{PluginID: "plugboard/pytools", Strategy: store.AutoUpgradeLatest, Minute: 3 * 60}); err != nil {
		t.Fatal(err)
	}

	srv.AutoUpgradeOnce(t.Context())
	if a, _ := db.AutoUpgrade(t.Context(), "plugboard/pytools"); !a.LastRun.IsZero() {
		t.Fatalf("ran at 02:00 for 03:00: %+v", a)
	}
	now = now.Add(65 * time.Minute)
	srv.AutoUpgradeOnce(t.Context())
	tasks, err := cl.Tasks(t.Context(), 1, 10)
	if err != nil || len(tasks) != 2 {
		t.Fatalf("tasks = %d, %v; want the install and the upgrade", len(tasks), err)
	}
	for _, task := range tasks {
		if _, err := cl.WaitTask(t.Context(), task.ID); err != nil {
			t.Fatal(err)
		}
	}
	if v := installedVersion(t, cl); v != "0.0.2" {
		t.Fatalf("after the auto-upgrade: %s, want 0.0.2", v)
	}
	entries, _, _ := db.FindAuditEntries(t.Context(), store.AuditFilter{Action: "plugin.auto_upgrade"})
	if len(entries) != 1 || !strings.Contains(entries[0].Detail, "upgrading from 0.0.1 to 0.0.2") {
		t.Fatalf("audit = %+v", entries)
	}
	if a, _ := db.AutoUpgrade(t.Context(), "plugboard/pytools"); !a.LastRun.Equal(now) {
		t.Fatalf("last run %v, want %v", a.LastRun, now)
	}
}

// TestAutoUpgradeRefusedByPolicy: a scheduled upgrade goes through the same
// signature policy as an install by hand, so under "require a trusted
// signature" an unsigned newer version is not installed.
func TestAutoUpgradeRefusedByPolicy(t *testing.T) {
	_, cl := MustDaemon(t)
	folder := MustMarketFolder(t, "0.0.1", "0.0.2")
	MustMarketInstall(t, cl, folder, "0.0.1")
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "plugboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 5, 1, 3, 5, 0, 0, time.UTC)
	srv := web.New(web.Config{Store: db, Daemon: cl, Examples: folder, Now: func() time.Time { return now }})
	if err := db.SetSignaturePolicy(t.Context(), "ada", store.PolicyRequireTrusted); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAutoUpgrade(t.Context(), store.AutoUpgrade{PluginID: "plugboard/pytools", Strategy: store.AutoUpgradeLatest, Minute: 3 * 60}); err != nil {
		t.Fatal(err)
	}
	srv.AutoUpgradeOnce(t.Context())
	tasks, err := cl.Tasks(t.Context(), 1, 10)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks = %d, %v; want only the install", len(tasks), err)
	}
	if v := installedVersion(t, cl); v != "0.0.1" {
		t.Fatalf("after a refused auto-upgrade: %s, want 0.0.1", v)
	}
}
