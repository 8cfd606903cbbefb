package web_test

import (
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
		for range store.MaxFailedLogins {
			wantStatus(t, b.Post("/login", url.Values{"username": {"root"}, "password": {"guess-guess"}}), http.StatusUnauthorized)
		}
		p := b.Post("/login", url.Values{"username": {"root"}, "password": {"password-root"}})
		wantStatus(t, p, http.StatusTooManyRequests)
		if got := p.TestID("form-error").Text(); !strings.HasPrefix(got, "Too many failed sign-ins; try again in 15 minutes") {
			t.Fatalf("message %q", got)
		}
	})
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
