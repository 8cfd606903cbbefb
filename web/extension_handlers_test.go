package web_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
)

func TestCreateExtension(t *testing.T) {
	app := MustExtApp(t, "127.0.0.1")
	ep := MustEndpoint(t)
	admin := app.NewBrowser(t)
	admin.MustLogin("root")

	t.Run("OK", func(t *testing.T) {
		e := app.MustCreate(t, admin, "Weather", ep.URL+"/ok", "sk-weather-123456")
		if e.APIKey() != "sk-weather-123456" || e.Endpoint != ep.URL+"/ok" {
			t.Fatalf("stored %+v", e)
		}
		auths := ep.Auths()
		if auths[len(auths)-1] != "Bearer sk-weather-123456" {
			t.Fatalf("Authorization %q", auths[len(auths)-1])
		}
		if last := ep.Last(); last["point"] != "ping" || len(last["params"].(map[string]any)) != 0 {
			t.Fatalf("ping body %v", last)
		}
		p := admin.Get("/extensions")
		if got := p.TestID("flash-success").Text(); !strings.Contains(got, "answered the ping") {
			t.Fatalf("flash %q", got)
		}
		row := p.Doc.Find(`[data-testid=extension-row][data-name="Weather"]`)
		if key := row.Find(`[data-testid=extension-key]`).Text(); key != "sk*************56" {
			t.Fatalf("listed key %q", key)
		}
		if strings.Contains(p.Body, "sk-weather-123456") {
			t.Fatal("the list page holds the key in clear")
		}
	})

	for _, tc := range []struct {
		name, endpoint, key, field, want string
	}{
		{"ErrWrongPong", ep.URL + "/wrong", "sk-secret-1", "endpoint", `it answered {"result":"pang"} instead of {"result":"pong"}`},
		{"ErrNotJSON", ep.URL + "/html", "sk-secret-2", "endpoint", `its answer is not JSON: “<html>hello</html>”`},
		{"ErrStatus500", ep.URL + "/500", "sk-secret-3", "endpoint", `it answered status 500 with “boom: the extension crashed xxx`},
		{"ErrSlow", ep.URL + "/slow", "sk-secret-4", "endpoint", "no answer within 300ms (read timeout)"},
		{"ErrUnreachable", closedPort(t), "sk-secret-5", "endpoint", "the connection was refused: nothing is listening at 127.0.0.1:"},
		{"ErrNotHTTP", "ftp://127.0.0.1/x", "sk-secret-6", "endpoint", "The endpoint must be an http(s) URL"},
		{"ErrNoScheme", "example.com/api", "sk-secret-7", "endpoint", "has no scheme"},
		{"ErrSSRFRefused", "http://169.254.169.254/latest/meta-data/", "sk-secret-8", "endpoint", "refused: 169.254.169.254 is a cloud metadata address (add the host or CIDR to the outbound allowlist to allow it)"},
		{"ErrSSRFLoopbackNotListed", strings.Replace(ep.URL, "127.0.0.1", "[::1]", 1) + "/ok", "sk-secret-9", "endpoint", "refused: ::1 is a loopback address"},
		{"ErrSSRFLoopbackZone", strings.Replace(ep.URL, "127.0.0.1", "[::1%25lo]", 1) + "/ok", "sk-secret-12", "endpoint", "refused: ::1%lo is a loopback address"},
		{"ErrSSRFLinkLocalZone", strings.Replace(ep.URL, "127.0.0.1", "[fe80::1%251]", 1) + "/ok", "sk-secret-13", "endpoint", "refused: fe80::1%1 is a link-local address"},
		{"ErrShortKey", ep.URL + "/ok", "1234", "api_key", "API key must be at least 5 characters (it has 4)."},
		{"ErrNameRequired", ep.URL + "/ok", "sk-secret-10", "name", "Name is required."},
		{"ErrNameTaken", ep.URL + "/ok", "sk-secret-11", "name", "An extension named weather exists already."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, pings := app.count(t), len(ep.Auths())
			name := map[string]string{"ErrNameRequired": "", "ErrNameTaken": "weather"}[tc.name]
			if _, ok := map[string]bool{"ErrNameRequired": true, "ErrNameTaken": true}[tc.name]; !ok {
				name = tc.name
			}
			admin.Get("/extensions")
			p := admin.Post("/extensions", extForm(name, tc.endpoint, tc.key))
			wantStatus(t, p, http.StatusUnprocessableEntity)
			if got := p.TestID("error-" + tc.field).Text(); !strings.Contains(got, tc.want) {
				t.Fatalf("%s error %q, want it to contain %q", tc.field, got, tc.want)
			}
			if app.count(t) != before {
				t.Fatal("saved anyway")
			}
			if strings.Contains(p.Body, tc.key) {
				t.Fatal("the re-rendered form holds the typed key")
			}
			if tc.field != "endpoint" && len(ep.Auths()) != pings {
				t.Fatal("pinged although the form was invalid")
			}
		})
	}
	t.Run("OKFormKeepsInput", func(t *testing.T) {
		admin.Get("/extensions")
		p := admin.Post("/extensions", extForm("Kept", ep.URL+"/wrong", "sk-kept-123"))
		if p.Doc.Find("#name").AttrOr("value", "") != "Kept" || p.Doc.Find("#endpoint").AttrOr("value", "") != ep.URL+"/wrong" {
			t.Fatal("the form lost the name or endpoint")
		}
		if got := p.TestID("error-api_key").Text(); !strings.Contains(got, "Type the key again") {
			t.Fatalf("key note %q", got)
		}
	})
	t.Run("OKAudited", func(t *testing.T) {
		entries, _, err := app.Store.FindAuditEntries(t.Context(), store.AuditFilter{Action: store.AuditExtensionCreate})
		if err != nil || len(entries) != 1 || entries[0].Actor != "root" || entries[0].Target != "extension Weather" {
			t.Fatalf("audit %v, %v", entries, err)
		}
	})
}

func TestUpdateExtension(t *testing.T) {
	app := MustExtApp(t, "127.0.0.1")
	ep := MustEndpoint(t)
	admin := app.NewBrowser(t)
	admin.MustLogin("root")
	e := app.MustCreate(t, admin, "Mod", ep.URL+"/ok", "original-key-777")
	path := "/extensions/" + e.ID

	t.Run("OKMaskedKeepsKey", func(t *testing.T) {
		p := admin.Get(path)
		wantStatus(t, p, http.StatusOK)
		masked := p.Doc.Find("#api_key").AttrOr("value", "")
		if masked != e.MaskedKey || strings.Contains(p.Body, "original-key-777") {
			t.Fatalf("edit form shows key %q", masked)
		}
		wantRedirect(t, admin.Post(path, extForm("Moderation", ep.URL+"/ok", masked)), "/extensions")
		auths := ep.Auths()
		if auths[len(auths)-1] != "Bearer original-key-777" {
			t.Fatalf("the ping carried %q", auths[len(auths)-1])
		}
		if got := app.MustFind(t, "Moderation"); got.APIKey() != "original-key-777" {
			t.Fatalf("stored key %q", got.APIKey())
		}
	})
	t.Run("OKDifyHiddenSentinel", func(t *testing.T) {
		admin.Get(path)
		wantRedirect(t, admin.Post(path, extForm("Moderation", ep.URL+"/ok", "[__HIDDEN__]")), "/extensions")
		if got := app.MustFind(t, "Moderation"); got.APIKey() != "original-key-777" {
			t.Fatalf("stored key %q", got.APIKey())
		}
	})
	t.Run("ErrPingFailsKeepsOld", func(t *testing.T) {
		admin.Get(path)
		p := admin.Post(path, extForm("Broken", ep.URL+"/500", "new-key-888"))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.TestID("error-endpoint").Text(), "status 500") {
			t.Fatalf("error %q", p.TestID("error-endpoint").Text())
		}
		got := app.MustFind(t, "Moderation")
		if got.Endpoint != ep.URL+"/ok" || got.APIKey() != "original-key-777" {
			t.Fatalf("changed anyway: %+v", got)
		}
	})
	t.Run("OKNewKey", func(t *testing.T) {
		admin.Get(path)
		wantRedirect(t, admin.Post(path, extForm("Moderation", ep.URL+"/ok", "new-key-999")), "/extensions")
		if got := app.MustFind(t, "Moderation"); got.APIKey() != "new-key-999" {
			t.Fatalf("stored key %q", got.APIKey())
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		wantStatus(t, admin.Get("/extensions/nope"), http.StatusNotFound)
	})
}

func TestDeleteExtension(t *testing.T) {
	app := MustExtApp(t, "127.0.0.1")
	ep := MustEndpoint(t)
	admin := app.NewBrowser(t)
	admin.MustLogin("root")
	e := app.MustCreate(t, admin, "Temp", ep.URL+"/ok", "temp-key-123")
	t.Run("OK", func(t *testing.T) {
		admin.Get("/extensions/" + e.ID)
		wantRedirect(t, admin.Post("/extensions/"+e.ID+"/delete", url.Values{}), "/extensions")
		if app.count(t) != 0 {
			t.Fatal("still stored")
		}
		entries, _, _ := app.Store.FindAuditEntries(t.Context(), store.AuditFilter{Action: store.AuditExtensionDelete})
		if len(entries) != 1 || entries[0].Target != "extension Temp" {
			t.Fatalf("audit %v", entries)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		admin.Get("/extensions")
		wantStatus(t, admin.Post("/extensions/"+e.ID+"/delete", url.Values{}), http.StatusNotFound)
	})
}

func TestExtensionKeyNeverShown(t *testing.T) {
	app := MustExtApp(t, "127.0.0.1")
	ep := MustEndpoint(t)
	admin := app.NewBrowser(t)
	admin.MustLogin("root")
	const key = "needle-key-31337"
	e := app.MustCreate(t, admin, "Secretive", ep.URL+"/ok", key)
	pages := map[string]*Page{
		"list": admin.Get("/extensions"),
		"edit": admin.Get("/extensions/" + e.ID),
		"try":  admin.Post("/extensions/"+e.ID+"/try", url.Values{"point": {"app.moderation.output"}, "app_id": {"a"}, "text": {"hi"}}),
		"fail": admin.Post("/extensions/"+e.ID, extForm("Secretive", ep.URL+"/500", "")),
	}
	for name, p := range pages {
		if strings.Contains(p.Body, key) {
			t.Errorf("the %s page holds the key in clear", name)
		}
		if p.StatusCode >= 500 {
			t.Errorf("the %s page failed: %d", name, p.StatusCode)
		}
	}
	if strings.Contains(app.Log.String(), key) {
		t.Error("a log line holds the key")
	}
	if raw := app.rawDB(t); len(raw) == 0 || strings.Contains(string(raw), key) {
		t.Fatalf("the database file holds the key in clear (%d bytes searched)", len(raw))
	}
}

func TestExtensionsMember(t *testing.T) {
	app := MustExtApp(t, "127.0.0.1")
	ep := MustEndpoint(t)
	admin := app.NewBrowser(t)
	admin.MustLogin("root")
	e := app.MustCreate(t, admin, "Admins only", ep.URL+"/ok", "admin-key-123")
	member := app.NewBrowser(t)
	member.MustLogin("bob")
	if member.Get("/").TestID("nav-extensions").Length() != 0 {
		t.Error("member sees the Extensions link")
	}
	if admin.Get("/").TestID("nav-extensions").Length() != 1 {
		t.Error("admin does not see the Extensions link")
	}
	for _, path := range []string{"/extensions", "/extensions/" + e.ID} {
		wantStatus(t, member.Get(path), http.StatusForbidden)
	}
	for path, form := range map[string]url.Values{
		"/extensions":                     extForm("Mallory", ep.URL+"/ok", "mallory-123"),
		"/extensions/" + e.ID:             extForm("Mallory", ep.URL+"/ok", "mallory-123"),
		"/extensions/" + e.ID + "/delete": {},
		"/extensions/" + e.ID + "/try":    {"point": {"app.moderation.output"}, "app_id": {"a"}},
		"/extensions/allowlist":           {"allowlist": {"0.0.0.0/0"}},
	} {
		wantStatus(t, member.Post(path, form), http.StatusForbidden)
	}
	if app.count(t) != 1 || app.MustFind(t, "Admins only").APIKey() != "admin-key-123" {
		t.Fatal("a member changed the extensions")
	}
}

func TestExtensionCorruptKey(t *testing.T) {
	app := MustExtApp(t, "127.0.0.1")
	ep := MustEndpoint(t)
	admin := app.NewBrowser(t)
	admin.MustLogin("root")
	e := app.MustCreate(t, admin, "Damaged", ep.URL+"/ok", "damaged-key-123")
	raw, err := sql.Open("sqlite", "file:"+app.DBPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE api_extensions SET api_key = X'0102030405' WHERE id = ?`, e.ID); err != nil {
		t.Fatal(err)
	}
	path := "/extensions/" + e.ID
	t.Run("ErrListed", func(t *testing.T) {
		p := admin.Get("/extensions")
		wantStatus(t, p, http.StatusOK)
		if p.TestID("extension-key-error").Length() != 1 {
			t.Fatal("the list does not flag the damaged key")
		}
	})
	t.Run("ErrEditPage", func(t *testing.T) {
		p := admin.Get(path)
		wantStatus(t, p, http.StatusOK)
		if got := p.TestID("extension-key-problem").Text(); !strings.Contains(got, "cannot be decrypted") {
			t.Fatalf("notice %q", got)
		}
	})
	t.Run("ErrTry", func(t *testing.T) {
		p := admin.Post(path+"/try", url.Values{"point": {"app.moderation.output"}, "app_id": {"a"}, "text": {"t"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("try-panel").Find(`[data-testid=form-error]`).Text(); !strings.Contains(got, "enter the key again") {
			t.Fatalf("message %q", got)
		}
	})
	t.Run("ErrMaskedResave", func(t *testing.T) {
		p := admin.Post(path, extForm("Damaged", ep.URL+"/ok", "(cannot be decrypted)"))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if got := p.TestID("error-api_key").Text(); got != "The stored key cannot be decrypted; enter the key again." {
			t.Fatalf("error %q", got)
		}
	})
	t.Run("OKNewKey", func(t *testing.T) {
		admin.Get(path)
		wantRedirect(t, admin.Post(path, extForm("Damaged", ep.URL+"/ok", "fresh-key-456")), "/extensions")
		if got := app.MustFind(t, "Damaged"); got.KeyErr != nil || got.APIKey() != "fresh-key-456" {
			t.Fatalf("%+v", got)
		}
	})
}
