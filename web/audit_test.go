package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/plugboard/plugboard/store"
)

// mustAuditEntry finds the newest entry of action on target, or fails.
func mustAuditEntry(tb testing.TB, db *store.DB, action, target string) *store.AuditEntry {
	tb.Helper()
	list, _, err := db.FindAuditEntries(context.Background(), store.AuditFilter{Action: action, PerPage: 100})
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range list {
		if e.Target == target {
			return e
		}
	}
	tb.Fatalf("no %s entry for %q among %d", action, target, len(list))
	return nil
}

// TestAuditSecurityActions does every security-relevant action through the
// app and finds each in the audit log with who, from where and its outcome.
func TestAuditSecurityActions(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ann", store.RoleAdmin)
	db := app.Store
	want := func(t *testing.T, action, target, actor, outcome string) *store.AuditEntry {
		t.Helper()
		e := mustAuditEntry(t, db, action, target)
		if e.Actor != actor || e.Outcome != outcome || e.Address != "127.0.0.1" {
			t.Fatalf("%s entry %+v, want actor %s, outcome %s, address 127.0.0.1", action, e, actor, outcome)
		}
		return e
	}
	b := app.NewBrowser(t)

	t.Run("OKFailedSignIn", func(t *testing.T) {
		b.Get("/login")
		p := b.Post("/login", url.Values{"username": {"ann"}, "password": {"not her password"}})
		wantStatus(t, p, http.StatusUnauthorized)
		if e := want(t, store.AuditLogin, "ann", "ann", store.OutcomeFailure); strings.Contains(e.Detail, "not her password") {
			t.Fatalf("the typed password is in the log: %+v", e)
		}
	})
	t.Run("OKSignIn", func(t *testing.T) {
		b.MustLogin("ann")
		want(t, store.AuditLogin, "ann", "ann", store.OutcomeSuccess)
	})
	t.Run("OKUserCreateAndRole", func(t *testing.T) {
		b.Get("/users")
		wantStatus(t, b.Post("/users", url.Values{"username": {"cy"}, "password": {"password-cy"}, "role": {"member"}}), http.StatusSeeOther)
		want(t, store.AuditUserCreate, "cy", "ann", store.OutcomeSuccess)
		cy, err := db.FindUserByUsername(context.Background(), "cy")
		if err != nil {
			t.Fatal(err)
		}
		b.Get("/users")
		wantStatus(t, b.Post("/users/"+strconv.FormatInt(cy.ID, 10)+"/role", url.Values{"role": {"admin"}}), http.StatusSeeOther)
		if e := want(t, store.AuditUserRole, "cy", "ann", store.OutcomeSuccess); e.Detail != "member → admin" {
			t.Fatalf("role change detail %q", e.Detail)
		}
	})
	t.Run("OKKeyChange", func(t *testing.T) {
		b.Get("/debugging")
		wantStatus(t, b.Post("/debugging/key/regenerate", url.Values{}), http.StatusSeeOther)
		want(t, "debugging.key.regenerate", "debug key", "ann", store.OutcomeSuccess)
	})
	t.Run("OKInstallUpgradeUninstall", func(t *testing.T) {
		b.Get("/")
		p := b.PostFile("/plugins/upload", "pytools.difypkg", MustPytools(t))
		uid := p.TestID("install-preview").AttrOr("data-uid", "")
		p = b.PostHX("/plugins/install", url.Values{"uid": {uid}, "source": {"package"}})
		task := p.TestID("task-progress").AttrOr("data-task-id", "")
		if task == "" {
			t.Fatalf("no task: %.600s", p.Body)
		}
		if _, err := cl.WaitTask(context.Background(), task); err != nil {
			t.Fatal(err)
		}
		// The start is recorded at once, the end when the app sees the task end.
		list := waitAudit(t, db, store.AuditPluginInstall, 2)
		if list[1].Outcome != store.OutcomeStarted || list[0].Outcome != store.OutcomeSuccess || list[0].Actor != "ann" ||
			list[0].Address != "127.0.0.1" || !strings.Contains(list[0].Detail, task) {
			t.Fatalf("install entries %+v %+v", list[0], list[1])
		}
		// An upgrade, from the package's preview, is its own action.
		b.Get("/")
		p = b.PostFile("/plugins/upload", "pytools-0.0.2.difypkg", MustPytoolsVersion(t, "0.0.2"))
		vals := url.Values{}
		p.Doc.Find(`form[action="/plugins/install"] input[type=hidden]`).Each(func(_ int, s *goquery.Selection) {
			vals.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
		})
		if vals.Get("original") == "" || p.TestID("preview-upgrade").Length() != 1 {
			t.Fatalf("the preview of 0.0.2 offers no upgrade: %.600s", p.Body)
		}
		p = b.PostHX("/plugins/install", vals)
		task = p.TestID("task-progress").AttrOr("data-task-id", "")
		if task == "" {
			t.Fatalf("no upgrade task: %.600s", p.Body)
		}
		if _, err := cl.WaitTask(context.Background(), task); err != nil {
			t.Fatal(err)
		}
		list = waitAudit(t, db, store.AuditPluginUpgrade, 2)
		if list[1].Outcome != store.OutcomeStarted || list[0].Outcome != store.OutcomeSuccess || list[0].Actor != "ann" ||
			list[0].Address != "127.0.0.1" || list[0].Target != "plugboard/pytools" || !strings.Contains(list[0].Detail, task) {
			t.Fatalf("upgrade entries %+v %+v", list[0], list[1])
		}
		b.Get("/plugins/plugboard/pytools")
		wantStatus(t, b.Post("/plugins/plugboard/pytools/uninstall", url.Values{}), http.StatusSeeOther)
		want(t, store.AuditPluginUninstall, "plugboard/pytools", "ann", store.OutcomeSuccess)
	})
	t.Run("OKSignOut", func(t *testing.T) {
		b.Get("/")
		wantStatus(t, b.Post("/logout", url.Values{}), http.StatusSeeOther)
		want(t, store.AuditLogout, "ann", "ann", store.OutcomeSuccess)
	})
	t.Run("OKPageFilters", func(t *testing.T) {
		b.MustLogin("ann")
		p := b.Get("/audit?actor=ann&action=" + store.AuditLogin)
		wantStatus(t, p, http.StatusOK)
		if n := p.TestID("audit-entry").Length(); n != 3 {
			t.Fatalf("%d sign-ins of ann listed, want 3 (the failed one, the first and this one)", n)
		}
		if got := p.Doc.Find(`[data-testid="audit-entry"][data-outcome="failure"] [data-testid="audit-address"]`).Text(); got != "127.0.0.1" {
			t.Fatalf("failed sign-in's address %q", got)
		}
		if n := b.Get("/audit?since=2999-01-01").TestID("audit-entry").Length(); n != 0 {
			t.Fatalf("%d entries from the year 2999", n)
		}
		p = b.Get("/audit?until=yesterday")
		if got := p.TestID("audit-filter-error").Text(); !strings.Contains(got, `"yesterday"`) {
			t.Fatalf("bad day error %q", got)
		}
	})
}

// waitAudit polls until action has at least n entries and returns them,
// newest first.
func waitAudit(tb testing.TB, db *store.DB, action string, n int) []*store.AuditEntry {
	tb.Helper()
	for range 3000 {
		list, _, err := db.FindAuditEntries(context.Background(), store.AuditFilter{Action: action})
		if err != nil {
			tb.Fatal(err)
		}
		if len(list) >= n {
			return list
		}
		time.Sleep(20 * time.Millisecond) // a polling interval, not a deadline
	}
	tb.Fatalf("fewer than %d %s entries", n, action)
	return nil
}
