package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
)

func TestOutboundAllowlist(t *testing.T) {
	app := MustExtApp(t, "") // nothing allowed by the command line
	ep := MustEndpoint(t)
	admin := app.NewBrowser(t)
	admin.MustLogin("root")

	t.Run("ErrLoopbackRefused", func(t *testing.T) {
		admin.Get("/extensions")
		p := admin.Post("/extensions", extForm("Local", ep.URL+"/ok", "local-key-123"))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-endpoint").Text(); !strings.Contains(got, "refused: 127.0.0.1 is a loopback address (add the host or CIDR to the outbound allowlist to allow it)") {
			t.Fatalf("error %q", got)
		}
	})
	t.Run("ErrBadEntry", func(t *testing.T) {
		admin.Get("/extensions")
		p := admin.Post("/extensions/allowlist", url.Values{"allowlist": {"localhost\n10.0.0.0/33"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-allowlist").Text(); !strings.Contains(got, `"10.0.0.0/33" is not a CIDR`) {
			t.Fatalf("error %q", got)
		}
		if p.Doc.Find("#allowlist").Text() != "localhost\n10.0.0.0/33" {
			t.Fatalf("the textarea lost the input: %q", p.Doc.Find("#allowlist").Text())
		}
		if v, _, _ := app.Store.Setting(t.Context(), "outbound.allowlist"); v != "" {
			t.Fatalf("saved %q anyway", v)
		}
	})
	t.Run("OKAllowed", func(t *testing.T) {
		admin.Get("/extensions")
		wantRedirect(t, admin.Post("/extensions/allowlist", url.Values{"allowlist": {"127.0.0.1/32, extensions.internal"}}), "/extensions")
		p := admin.Get("/extensions")
		if got := p.TestID("flash-success").Find("span").Text(); got != "Saved the outbound allowlist (2 entries)." {
			t.Fatalf("flash %q", got)
		}
		if got := p.Doc.Find("#allowlist").Text(); got != "127.0.0.1/32\nextensions.internal" {
			t.Fatalf("textarea %q", got)
		}
		app.MustCreate(t, admin, "Local", ep.URL+"/ok", "local-key-123")
		entries, _, _ := app.Store.FindAuditEntries(t.Context(), store.AuditFilter{Action: "outbound_allowlist.update"})
		if len(entries) != 1 || entries[0].Detail != "entries: 127.0.0.1/32, extensions.internal" {
			t.Fatalf("audit %v", entries)
		}
	})
	t.Run("OKEmptiedRefusesAgain", func(t *testing.T) {
		admin.Get("/extensions")
		wantRedirect(t, admin.Post("/extensions/allowlist", url.Values{"allowlist": {""}}), "/extensions")
		e := app.MustFind(t, "Local")
		admin.Get("/extensions/" + e.ID)
		p := admin.Post("/extensions/"+e.ID+"/try", url.Values{"point": {"app.moderation.output"}, "app_id": {"a"}, "text": {"t"}})
		if got := p.TestID("try-error").Text(); !strings.Contains(got, "refused: 127.0.0.1 is a loopback address") {
			t.Fatalf("error %q", got)
		}
	})
}

func TestOutboundAllowlistFixed(t *testing.T) {
	app := MustExtApp(t, "127.0.0.1, localhost")
	admin := app.NewBrowser(t)
	admin.MustLogin("root")
	p := admin.Get("/extensions")
	if got := strings.Join(strings.Fields(p.TestID("allowlist-fixed").Text()), " "); !strings.Contains(got, "127.0.0.1 , localhost") && !strings.Contains(got, "127.0.0.1, localhost") {
		t.Fatalf("fixed entries shown as %q", got)
	}
}
