package web_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web"
	"github.com/plugboard/plugboard/web/guard"
)

// cookieNamed returns the page's Set-Cookie of that name; it fails the
// test unless there is exactly one.
func cookieNamed(tb testing.TB, p *Page, name string) *http.Cookie {
	tb.Helper()
	var found []*http.Cookie
	for _, c := range p.Cookies() {
		if c.Name == name {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d Set-Cookie %s in %v", len(found), name, p.Header.Values("Set-Cookie"))
	}
	return found[0]
}

func trusting(cidrs string) func(*web.Config) {
	return func(cfg *web.Config) {
		p, err := guard.ParseTrustedProxies(cidrs)
		if err != nil {
			panic(err)
		}
		cfg.TrustedProxies = p
	}
}

// TestCSRFCookieSecure: the CSRF cookie (and the session cookie) are
// Secure whenever the browser came over https: an https public URL or a
// trusted proxy's X-Forwarded-Proto, never an untrusted client's word.
func TestCSRFCookieSecure(t *testing.T) {
	for _, tc := range []struct {
		name      string
		configure func(*web.Config)
		proto     string
		want      bool
	}{
		{"OKPlainHTTP", nil, "", false},
		{"OKHTTPSPublicURL", func(cfg *web.Config) { cfg.PublicURL = "https://plugboard.example" }, "", true},
		{"OKTrustedProxyHTTPS", trusting("127.0.0.0/8"), "https", true},
		{"OKTrustedProxyHTTP", trusting("127.0.0.1"), "http", false},
		{"OKUntrustedForwardedProtoIgnored", trusting("10.0.0.0/8"), "https", false},
		{"OKNoProxiesForwardedProtoIgnored", nil, "https", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := MustAppWith(t, deadDaemon, tc.configure)
			app.MustUser(t, "root", store.RoleOwner)
			// A cookie jar would not send Secure cookies back over the
			// test's http, so the cookies are passed by hand.
			b := app.NewBrowser(t)
			b.hc.Jar = nil
			send := func(req *http.Request, cookies ...*http.Cookie) *Page {
				if tc.proto != "" {
					req.Header.Set("X-Forwarded-Proto", tc.proto)
				}
				for _, c := range cookies {
					req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
				}
				return b.Do(req)
			}
			get, _ := http.NewRequest(http.MethodGet, app.URL+"/login", nil)
			form := send(get)
			wantStatus(t, form, http.StatusOK)
			csrf := cookieNamed(t, form, "plugboard_csrf")
			if csrf.Secure != tc.want || !csrf.HttpOnly || csrf.SameSite != http.SameSiteLaxMode {
				t.Errorf("CSRF cookie Secure %v HttpOnly %v SameSite %v; want Secure %v", csrf.Secure, csrf.HttpOnly, csrf.SameSite, tc.want)
			}
			body := url.Values{"username": {"root"}, "password": {"password-root"}, "_csrf": {b.csrf}}
			post, _ := http.NewRequest(http.MethodPost, app.URL+"/login", strings.NewReader(body.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			signedIn := send(post, csrf)
			wantRedirect(t, signedIn, "/")
			for _, name := range []string{"plugboard_session", "plugboard_csrf"} {
				if c := cookieNamed(t, signedIn, name); c.Secure != tc.want {
					t.Errorf("after sign-in, %s Secure %v, want %v", name, c.Secure, tc.want)
				}
			}
		})
	}
}

// TestCSRFRotatedAtSignIn: signing in replaces the CSRF token, so a token
// an attacker planted (or read) before sign-in forges nothing after it.
func TestCSRFRotatedAtSignIn(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "root", store.RoleOwner)
	u, _ := url.Parse(app.URL)
	b := app.NewBrowser(t)
	planted := "planted-token-0123456789abcdef"
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "plugboard_csrf", Value: planted, Path: "/"}})
	login := b.Get("/login")
	if b.csrf != planted {
		t.Fatalf("the sign-in form carries %q, not the cookie's token", b.csrf)
	}
	p := b.Post("/login", url.Values{"username": {"root"}, "password": {"password-root"}})
	wantRedirect(t, p, "/")
	rotated := cookieNamed(t, p, "plugboard_csrf")
	if rotated.Value == planted || rotated.Value == "" || !rotated.HttpOnly || rotated.Path != "/" || rotated.MaxAge <= 0 {
		t.Fatalf("CSRF cookie after sign-in %+v (before: %s)", rotated, cookieNamed(t, login, "plugboard_csrf").Value)
	}
	t.Run("ErrOldTokenRefused", func(t *testing.T) {
		wantStatus(t, b.PostRaw("/logout", url.Values{"_csrf": {planted}}), http.StatusForbidden)
		wantStatus(t, b.Get("/"), http.StatusOK) // still signed in
	})
	t.Run("OKNewTokenOnPages", func(t *testing.T) {
		home := b.Get("/")
		if b.csrf != rotated.Value {
			t.Fatalf("the page's forms carry %q, want the rotated %q", b.csrf, rotated.Value)
		}
		wantStatus(t, home, http.StatusOK)
		wantRedirect(t, b.Post("/logout", url.Values{}), "/login")
	})
}

func TestParseTrustedProxies(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := guard.ParseTrustedProxies("10.0.0.0/8, 127.0.0.1 fd00::/8,::1")
		if err != nil {
			t.Fatal(err)
		}
		want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"),
			netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("::1/128")}
		if len(got) != len(want) {
			t.Fatalf("got %v", got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	})
	t.Run("ErrBadEntry", func(t *testing.T) {
		for _, in := range []string{"10.0.0.0/33", "proxy.internal", "fe80::1%eth0"} {
			if _, err := guard.ParseTrustedProxies(in); err == nil || !strings.Contains(err.Error(), `"`+in+`" is not a CIDR`) {
				t.Errorf("ParseTrustedProxies(%q) = %v", in, err)
			}
		}
	})
}
