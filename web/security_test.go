package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/guard"
)

func TestSecurityHeaders(t *testing.T) {
	app := MustApp(t, deadDaemon)
	p := app.NewBrowser(t).Get("/setup")
	want := map[string]string{
		"Content-Security-Policy": guard.ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
	}
	for h, v := range want {
		if got := p.Header.Get(h); got != v {
			t.Errorf("%s = %q, want %q", h, got, v)
		}
	}
	for _, s := range []string{"'unsafe-inline'", "frame-ancestors 'none'"} {
		if strings.Contains(guard.ContentSecurityPolicy, s) != (s == "frame-ancestors 'none'") {
			t.Errorf("CSP and %s", s)
		}
	}
	if p.Doc.Find("script:not([src]), style, [style]").Length() != 0 {
		t.Error("page has inline script or style, which the CSP blocks")
	}
	for _, c := range p.Cookies() {
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s: HttpOnly %v SameSite %v", c.Name, c.HttpOnly, c.SameSite)
		}
	}
}

func TestCSRF(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "root", store.RoleOwner)
	b := app.NewBrowser(t)
	b.MustLogin("root")
	b.Get("/")
	t.Run("ErrMissingToken", func(t *testing.T) {
		p := b.PostRaw("/logout", url.Values{})
		wantStatus(t, p, http.StatusForbidden)
		if !strings.Contains(p.TestID("error-message").Text(), "security token (CSRF)") {
			t.Fatalf("message %q", p.TestID("error-message").Text())
		}
		wantStatus(t, b.Get("/"), http.StatusOK) // still signed in
	})
	t.Run("ErrWrongToken", func(t *testing.T) {
		wantStatus(t, b.PostRaw("/logout", url.Values{"_csrf": {"forged"}}), http.StatusForbidden)
	})
	t.Run("ErrSameOriginWithoutToken", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/logout", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		wantStatus(t, b.Do(req), http.StatusForbidden)
	})
	t.Run("ErrCrossSite", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/logout", strings.NewReader(url.Values{"_csrf": {b.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		wantStatus(t, b.Do(req), http.StatusForbidden)
	})
	t.Run("OKHTMXHeader", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/logout", nil)
		req.Header.Set("HX-Request", "true")
		req.Header.Set("X-CSRF-Token", b.csrf)
		p := b.Do(req)
		wantStatus(t, p, http.StatusNoContent)
		if p.Header.Get("HX-Redirect") != "/login" {
			t.Fatalf("HX-Redirect %q", p.Header.Get("HX-Redirect"))
		}
	})
}

func TestErrorPages(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "root", store.RoleOwner)
	b := app.NewBrowser(t)
	b.MustLogin("root")
	t.Run("ErrNotFound", func(t *testing.T) {
		p := b.Get("/no/such/page")
		wantStatus(t, p, http.StatusNotFound)
		if st, _ := p.TestID("error-page").Attr("data-status"); st != "404" {
			t.Fatalf("error page status %q: %.300s", st, p.Body)
		}
		if p.TestID("current-user").Text() != "root" {
			t.Fatal("error page lost the layout's user menu")
		}
	})
	t.Run("ErrHTMXGetsText", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/no/such/page", nil)
		req.Header.Set("HX-Request", "true")
		p := b.Do(req)
		wantStatus(t, p, http.StatusNotFound)
		if p.Body != "There is no page at /no/such/page." {
			t.Fatalf("body %q", p.Body)
		}
	})
}

func TestDaemonDown(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "root", store.RoleOwner)
	b := app.NewBrowser(t)
	b.MustLogin("root")
	for _, path := range []string{"/", "/users", "/account/password"} {
		p := b.Get(path)
		wantStatus(t, p, http.StatusOK)
		if reason := p.TestID("daemon-reason").Text(); !strings.Contains(reason, "connection refused") {
			t.Fatalf("%s: banner reason %q", path, reason)
		}
	}
	if got := b.Get("/").TestID("plugins-error").Text(); !strings.Contains(got, "can't be reached") {
		t.Fatalf("plugins page error %q", got)
	}
}
