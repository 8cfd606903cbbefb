package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/store"
)

func TestSetup(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		app := MustApp(t, deadDaemon)
		b := app.NewBrowser(t)
		wantRedirect(t, b.Get("/"), "/setup")
		wantRedirect(t, b.Get("/login"), "/setup")
		p := b.Get("/setup")
		if p.TestID("setup-page").Length() != 1 {
			t.Fatalf("no setup page: %.300s", p.Body)
		}
		wantRedirect(t, b.Post("/setup", url.Values{"username": {"root"}, "password": {"correct horse"}, "confirm": {"correct horse"}}), "/")
		home := b.Get("/")
		wantStatus(t, home, http.StatusOK)
		if got := home.TestID("current-user").Text(); got != "root" {
			t.Fatalf("current user %q", got)
		}
		if got := home.TestID("current-role").Text(); got != "Owner" {
			t.Fatalf("role %q", got)
		}
		if home.TestID("flash-success").Length() != 1 {
			t.Fatal("no welcome flash")
		}
	})
	t.Run("ErrPasswordsDiffer", func(t *testing.T) {
		app := MustApp(t, deadDaemon)
		b := app.NewBrowser(t)
		b.Get("/setup")
		p := b.Post("/setup", url.Values{"username": {"root"}, "password": {"correct horse"}, "confirm": {"correct house"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if p.TestID("error-confirm").Length() != 1 {
			t.Fatalf("no error on confirm: %.500s", p.Body)
		}
		if v, _ := p.TestID("input-username").Attr("value"); v != "root" {
			t.Fatalf("username not kept: %q", v)
		}
		if v, ok := p.TestID("input-password").Attr("value"); ok {
			t.Fatalf("password echoed back: %q", v)
		}
	})
	t.Run("ErrShortPassword", func(t *testing.T) {
		app := MustApp(t, deadDaemon)
		b := app.NewBrowser(t)
		b.Get("/setup")
		p := b.Post("/setup", url.Values{"username": {"root"}, "password": {"short"}, "confirm": {"short"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.TestID("error-password").Text(), "at least 8") {
			t.Fatalf("password error: %q", p.TestID("error-password").Text())
		}
	})
	t.Run("ErrAlreadyDone", func(t *testing.T) {
		app := MustApp(t, deadDaemon)
		app.MustUser(t, "root", store.RoleOwner)
		b := app.NewBrowser(t)
		wantRedirect(t, b.Get("/setup"), "/login")
		b.Get("/login")
		wantRedirect(t, b.Post("/setup", url.Values{"username": {"eve"}, "password": {"password-eve"}, "confirm": {"password-eve"}}), "/login")
		if n, _ := app.Store.CountUsers(t.Context()); n != 1 {
			t.Fatalf("%d users", n)
		}
	})
}

func TestLogin(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "root", store.RoleOwner)
	t.Run("OK", func(t *testing.T) {
		b := app.NewBrowser(t)
		wantRedirect(t, b.Get("/users"), "/login?next=%2Fusers")
		b.Get("/login?next=%2Fusers")
		p := b.Post("/login", url.Values{"username": {"root"}, "password": {"password-root"}, "next": {"/users"}})
		wantRedirect(t, p, "/users")
		wantStatus(t, b.Get("/users"), http.StatusOK)
	})
	t.Run("OKNextStaysOnSite", func(t *testing.T) {
		b := app.NewBrowser(t)
		b.Get("/login")
		p := b.Post("/login", url.Values{"username": {"root"}, "password": {"password-root"}, "next": {"//evil.example/x"}})
		wantRedirect(t, p, "/")
	})
	for name, user := range map[string]string{"ErrWrongPassword": "root", "ErrUnknownUser": "nobody"} {
		t.Run(name, func(t *testing.T) {
			b := app.NewBrowser(t)
			b.Get("/login")
			p := b.Post("/login", url.Values{"username": {user}, "password": {"not-the-password"}})
			wantStatus(t, p, http.StatusUnauthorized)
			if got := p.TestID("form-error").Text(); got != "Invalid username or password." {
				t.Fatalf("message %q", got)
			}
		})
	}
	t.Run("ErrThrottled", func(t *testing.T) {
		app := MustApp(t, deadDaemon)
		app.MustUser(t, "root", store.RoleOwner)
		b := app.NewBrowser(t)
		b.Get("/login")
		for range store.FreeLoginFailures {
			wantStatus(t, b.Post("/login", url.Values{"username": {"root"}, "password": {"guess-guess"}}), http.StatusUnauthorized)
		}
		p := b.Post("/login", url.Values{"username": {"root"}, "password": {"password-root"}})
		wantStatus(t, p, http.StatusTooManyRequests)
		if got := p.TestID("form-error").Text(); got != "Too many failed sign-ins to this account from your address; try again in 1 minute." {
			t.Fatalf("message %q", got)
		}
	})
}

// signInFrom posts the sign-in form as a trusted proxy forwarding for the
// client at addr, with header (X-Forwarded-For or X-Real-IP).
func signInFrom(b *Browser, header, addr, user, password string) *Page {
	b.tb.Helper()
	b.Get("/login")
	form := url.Values{"username": {user}, "password": {password}, "_csrf": {b.csrf}}
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(header, addr)
	return b.Do(req)
}

// TestLoginThrottlePerAddress: failures throttle only their own account
// from their own client address, which a trusted proxy names: the owner
// with the right password from another address always gets in, and so do
// other accounts from the attacker's address.
func TestLoginThrottlePerAddress(t *testing.T) {
	app := MustAppWith(t, deadDaemon, trusting("127.0.0.1"))
	app.MustUser(t, "root", store.RoleOwner)
	app.MustUser(t, "bob", store.RoleMember)
	attacker := app.NewBrowser(t)
	for range 2 * store.FreeLoginFailures {
		signInFrom(attacker, "X-Forwarded-For", "203.0.113.9", "root", "guess-guess")
	}
	wantStatus(t, signInFrom(attacker, "X-Forwarded-For", "203.0.113.9", "root", "password-root"), http.StatusTooManyRequests)

	t.Run("OKOwnerFromCleanAddress", func(t *testing.T) {
		wantRedirect(t, signInFrom(app.NewBrowser(t), "X-Forwarded-For", "198.51.100.7", "root", "password-root"), "/")
	})
	t.Run("OKOwnerByRealIP", func(t *testing.T) {
		wantRedirect(t, signInFrom(app.NewBrowser(t), "X-Real-IP", "198.51.100.8", "root", "password-root"), "/")
	})
	t.Run("OKOtherAccountFromAttackersAddress", func(t *testing.T) {
		wantRedirect(t, signInFrom(app.NewBrowser(t), "X-Forwarded-For", "203.0.113.9", "bob", "password-bob"), "/")
	})
	t.Run("OKNearestUntrustedHop", func(t *testing.T) {
		// The client may put anything in front; the proxy appends the
		// address it saw, which is the one counted.
		p := signInFrom(app.NewBrowser(t), "X-Forwarded-For", "198.51.100.7, 203.0.113.9", "root", "password-root")
		wantStatus(t, p, http.StatusTooManyRequests)
	})
}

// TestLoginThrottleUntrustedHeaders: without trusted proxies a client
// cannot pick a fresh address per guess with X-Forwarded-For.
func TestLoginThrottleUntrustedHeaders(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "root", store.RoleOwner)
	b := app.NewBrowser(t)
	for i := range store.FreeLoginFailures {
		wantStatus(t, signInFrom(b, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1), "root", "guess-guess"), http.StatusUnauthorized)
	}
	wantStatus(t, signInFrom(b, "X-Forwarded-For", "198.51.100.99", "root", "password-root"), http.StatusTooManyRequests)
}

func TestLogout(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "root", store.RoleOwner)
	b := app.NewBrowser(t)
	b.MustLogin("root")
	home := b.Get("/")
	wantStatus(t, home, http.StatusOK)
	// Keep the signed-in cookie to replay it after logout.
	u, _ := url.Parse(app.URL)
	stolen := b.hc.Jar.Cookies(u)
	wantRedirect(t, b.Post("/logout", url.Values{}), "/login")
	wantRedirect(t, b.Get("/"), "/login")

	replay := app.NewBrowser(t)
	replay.hc.Jar.SetCookies(u, stolen)
	wantRedirect(t, replay.Get("/"), "/login")
}

func TestChangePassword(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "alice", store.RoleMember)
	other := app.NewBrowser(t)
	other.MustLogin("alice")
	b := app.NewBrowser(t)
	b.MustLogin("alice")
	t.Run("ErrCurrentWrong", func(t *testing.T) {
		b.Get("/account/password")
		p := b.Post("/account/password", url.Values{"current": {"nope-nope"}, "new": {"new password"}, "confirm": {"new password"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if p.TestID("error-current").Length() != 1 {
			t.Fatalf("no error on current: %.400s", p.Body)
		}
	})
	t.Run("OK", func(t *testing.T) {
		b.Get("/account/password")
		p := b.Post("/account/password", url.Values{"current": {"password-alice"}, "new": {"new password"}, "confirm": {"new password"}})
		wantRedirect(t, p, "/")
		wantStatus(t, b.Get("/"), http.StatusOK)
		wantRedirect(t, other.Get("/"), "/login")
	})
}
