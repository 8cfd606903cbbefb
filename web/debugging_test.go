package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
)

func TestDebuggingPage(t *testing.T) {
	daemonURL, cl := MustDaemon(t)
	app := MustApp(t, daemonURL)
	app.MustUser(t, "ada", store.RoleAdmin)
	app.MustUser(t, "bob", store.RoleMember)
	key, err := cl.DebuggingKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		b := app.NewBrowser(t)
		b.MustLogin("ada")
		p := b.Get("/debugging")
		wantStatus(t, p, http.StatusOK)
		if h, port := p.TestID("debug-host").Text(), p.TestID("debug-port").Text(); h != "127.0.0.1" || port != "5003" {
			t.Fatalf("host %q port %q, want the default 127.0.0.1:5003", h, port)
		}
		masked := p.TestID("debug-key").Text()
		if !strings.HasSuffix(masked, key[len(key)-4:]) || !strings.Contains(masked, "•") {
			t.Fatalf("masked key %q for %q", masked, key)
		}
		if strings.Contains(p.Body, key) {
			t.Fatal("the page holds the whole debug key")
		}
		if p.TestID("debug-key-copy").Length() != 1 || p.TestID("debugging-none").Length() != 1 {
			t.Fatal("copy button or the empty connected list missing")
		}
		if !strings.Contains(p.TestID("debug-env").Text(), "INSTALL_METHOD=remote") {
			t.Fatalf("env snippet %q", p.TestID("debug-env").Text())
		}
		if got := b.Get("/debugging/key"); got.Body != key || got.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("copy source %q (cache %q), want the key, not cached", got.Body, got.Header.Get("Cache-Control"))
		}
	})
	t.Run("Regenerate", func(t *testing.T) {
		b := app.NewBrowser(t)
		b.MustLogin("ada")
		b.Get("/debugging")
		wantRedirect(t, b.Post("/debugging/key/regenerate", url.Values{}), "/debugging")
		fresh, err := cl.DebuggingKey(context.Background())
		if err != nil || fresh == key {
			t.Fatalf("key after regenerate %q (was %q): %v", fresh, key, err)
		}
		if !strings.HasSuffix(b.Get("/debugging").TestID("debug-key").Text(), fresh[len(fresh)-4:]) {
			t.Fatal("the page does not show the new key")
		}
	})
	t.Run("ErrMember", func(t *testing.T) {
		b := app.NewBrowser(t)
		b.MustLogin("bob")
		wantStatus(t, b.Get("/debugging"), http.StatusForbidden)
		if p := b.Get("/debugging/key"); p.StatusCode != http.StatusForbidden || strings.Contains(p.Body, key) {
			t.Fatalf("member reading the key: %d", p.StatusCode)
		}
	})
}
