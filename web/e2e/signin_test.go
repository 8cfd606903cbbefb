package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSignIn walks one server through first-run setup, sign-in, roles and
// CSRF in the browser, in the order a new installation meets them.
func TestSignIn(t *testing.T) {
	skipWithoutChromium(t)
	srv := MustServe(t)

	t.Run("OKSetupLoginLogout", func(t *testing.T) {
		b := MustBrowser(t, srv)
		b.Open("/", "setup-page") // no users yet: / sends to setup
		b.Shoot("setup")
		b.Fill(map[string]string{"input-username": "root", "input-password": "correct horse", "input-confirm": "correct horse"})
		b.Do("create owner", chromedp.Click(tid("setup-submit")), chromedp.WaitVisible(tid("plugins-page")))
		if got := b.Text("current-user"); got != "root" {
			t.Fatalf("signed in as %q", got)
		}
		b.Shoot("plugins")
		b.Open("/users", "users-list")
		b.Shoot("users")
		b.Open("/account/password", "password-page")
		b.Shoot("password")
		b.Open("/no/such/page", "error-page")
		b.Shoot("error-404")
		b.Open("/", "plugins-page")
		b.Do("open the user menu", chromedp.Click(tid("user-menu-toggle")), chromedp.WaitVisible(tid("logout")))
		b.Shoot("user-menu")
		b.Do("sign out", chromedp.Click(tid("logout")), chromedp.WaitVisible(tid("login-page")))
		if got := b.Text("flash-info"); !strings.HasPrefix(got, "You are signed out.") {
			t.Fatalf("flash %q", got)
		}
		b.Shoot("login")
		b.Open("/", "login-page") // the session is over
	})

	t.Run("ErrWrongPassword", func(t *testing.T) {
		b := MustBrowser(t, srv)
		b.Open("/login", "login-page")
		b.Fill(map[string]string{"input-username": "root", "input-password": "not the password"})
		b.Do("sign in", chromedp.Click(tid("login-submit")), chromedp.WaitVisible(tid("form-error")))
		if got := b.Text("form-error"); got != "Invalid username or password." {
			t.Fatalf("message %q", got)
		}
		b.Shoot("login-error")
		b.Fill(map[string]string{"input-username": "root", "input-password": "correct horse"})
		b.Do("sign in", chromedp.Click(tid("login-submit")), chromedp.WaitVisible(tid("plugins-page")))
	})

	t.Run("ErrMemberForbidden", func(t *testing.T) {
		owner := MustBrowser(t, srv)
		login(owner, "root", "correct horse")
		owner.Open("/users", "add-user-form")
		owner.Fill(map[string]string{"input-username": "bob", "input-password": "bob-password"})
		owner.Do("add bob", chromedp.Click(tid("add-user-submit")), chromedp.WaitVisible(`[data-username="bob"]`))

		member := MustBrowser(t, srv)
		login(member, "bob", "bob-password")
		if n := member.Count("nav-users"); n != 0 {
			t.Fatalf("member sees %d Users links", n)
		}
		if got := member.Text("current-role"); got != "Member" {
			t.Fatalf("role %q", got)
		}
		// A forged request with a valid CSRF token: only the role check stops it.
		status := Eval[int](member, `fetch("/users", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
			body: new URLSearchParams({_csrf: document.querySelector("input[name=_csrf]").value, username: "mallory", password: "mallory-pw", role: "admin"})}).then(r => r.status)`)
		if status != 403 {
			t.Fatalf("forged add-user: status %d, want 403", status)
		}
		member.Open("/users", "error-page")
		if got := member.Text("error-message"); !strings.Contains(got, "admin role") {
			t.Fatalf("403 page says %q", got)
		}
		member.Shoot("error-403")
		owner.Open("/users", "users-list")
		if n := Eval[int](owner, `document.querySelectorAll('[data-username="mallory"]').length`); n != 0 {
			t.Fatal("the forged request created a user")
		}
	})

	t.Run("ErrNoCSRFToken", func(t *testing.T) {
		b := MustBrowser(t, srv)
		login(b, "root", "correct horse")
		b.Open("/account/password", "password-form")
		Eval[bool](b, `(() => { document.querySelector('[data-testid="password-form"] input[name=_csrf]').remove(); return true })()`)
		b.Fill(map[string]string{"input-current": "correct horse", "input-new": "battery staple", "input-confirm": "battery staple"})
		b.Do("submit without token", chromedp.Click(tid("password-submit")), chromedp.WaitVisible(tid("error-page")))
		if got := b.Text("error-message"); !strings.Contains(got, "CSRF") {
			t.Fatalf("message %q", got)
		}
		if st := Eval[string](b, `document.querySelector('[data-testid="error-page"]').dataset.status`); st != "403" {
			t.Fatalf("status %s", st)
		}
		b.Shoot("error-csrf")
		// The password did not change.
		other := MustBrowser(t, srv)
		login(other, "root", "correct horse")
	})
}

// login signs in through the form and waits for the Plugins page.
func login(b *Browser, user, password string) {
	b.tb.Helper()
	b.Open("/login", "login-page")
	b.Fill(map[string]string{"input-username": user, "input-password": password})
	b.Do("sign in as "+user, chromedp.Click(tid("login-submit")), chromedp.WaitVisible(tid("plugins-page")))
}
