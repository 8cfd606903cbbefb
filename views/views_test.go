package views_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// MustRender renders a component and parses it.
func MustRender(tb testing.TB, c templ.Component) *goquery.Document {
	tb.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		tb.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

func byID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

func chrome(role store.Role) views.Chrome {
	return views.Chrome{Title: "Plugins", Nav: views.NavPlugins, CSRF: "tok",
		User: &store.User{ID: 1, Username: "alice", Role: role}}
}

func TestPluginsPage(t *testing.T) {
	t.Run("OKList", func(t *testing.T) {
		list := []apispec.Installation{{
			PluginID: "plugboard/gotools", Name: "gotools", Version: "0.1.0",
			Declaration: &plugboard.Manifest{Label: plugboard.I18n{"en_US": "Go tools"}},
			Runtime:     &apispec.RuntimeStatus{State: apispec.StateRunning},
		}}
		doc := MustRender(t, views.PluginsPage(chrome(store.RoleAdmin), views.PluginsData{Plugins: list, Total: len(list)}))
		row := doc.Find(`[data-plugin-id="plugboard/gotools"]`)
		if row.Find("strong").Text() != "Go tools" || row.Find(`[data-testid=plugin-state]`).Text() != "running" {
			t.Fatalf("row: %q", row.Text())
		}
	})
	t.Run("OKEmptyMember", func(t *testing.T) {
		doc := MustRender(t, views.PluginsPage(chrome(store.RoleMember), views.PluginsData{}))
		if byID(doc, "plugins-empty").Length() != 1 || byID(doc, "nav-users").Length() != 0 {
			t.Fatal("member's empty page wrong")
		}
	})
	t.Run("ErrDaemon", func(t *testing.T) {
		ch := chrome(store.RoleOwner)
		ch.DaemonDown = "connection refused"
		doc := MustRender(t, views.PluginsPage(ch, views.PluginsData{ListErr: "connection refused"}))
		if byID(doc, "daemon-reason").Text() != "connection refused" || byID(doc, "plugins-error").Length() != 1 {
			t.Fatal("no banner or error")
		}
	})
}

func TestLayout(t *testing.T) {
	t.Run("OKSignedOut", func(t *testing.T) {
		doc := MustRender(t, views.LoginPage(views.Chrome{Title: "Sign in", CSRF: "tok"}, views.NewForm(), "/"))
		if byID(doc, "user-menu").Length() != 0 || byID(doc, "task-indicator").Length() != 0 {
			t.Fatal("signed-out page shows the user menu")
		}
		if v, _ := doc.Find(`input[name=_csrf]`).Attr("value"); v != "tok" {
			t.Fatalf("csrf field %q", v)
		}
	})
	t.Run("OKHTMXCarriesCSRF", func(t *testing.T) {
		doc := MustRender(t, views.PluginsPage(chrome(store.RoleOwner), views.PluginsData{}))
		if h, _ := doc.Find("body").Attr("hx-headers"); h != `{"X-CSRF-Token":"tok"}` {
			t.Fatalf("hx-headers %q", h)
		}
		if byID(doc, "task-indicator").Length() != 1 || byID(doc, "nav-plugins").AttrOr("aria-current", "") != "page" {
			t.Fatal("header incomplete")
		}
	})
}
