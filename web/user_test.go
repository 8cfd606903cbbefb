package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/plugboard/plugboard/store"
)

func TestUsersPage(t *testing.T) {
	app := MustApp(t, deadDaemon)
	app.MustUser(t, "root", store.RoleOwner)
	app.MustUser(t, "alice", store.RoleAdmin)
	app.MustUser(t, "bob", store.RoleMember)
	owner, _ := app.Store.FindUserByUsername(t.Context(), "root")
	bob, _ := app.Store.FindUserByUsername(t.Context(), "bob")

	admin := app.NewBrowser(t)
	admin.MustLogin("alice")
	t.Run("OKList", func(t *testing.T) {
		p := admin.Get("/users")
		wantStatus(t, p, http.StatusOK)
		if n := p.TestID("user-row").Length(); n != 3 {
			t.Fatalf("%d rows", n)
		}
		// No controls on the owner's row or one's own.
		for _, name := range []string{"root", "alice"} {
			if p.Doc.Find(`[data-username="`+name+`"] [data-testid=remove-user]`).Length() != 0 {
				t.Errorf("%s can be removed", name)
			}
		}
		if p.Doc.Find(`[data-username="bob"] [data-testid=remove-user]`).Length() != 1 {
			t.Error("bob has no remove control")
		}
		if p.TestID("nav-users").Length() != 1 {
			t.Error("admin does not see the Users link")
		}
	})
	t.Run("OKAdd", func(t *testing.T) {
		admin.Get("/users")
		wantRedirect(t, admin.Post("/users", url.Values{"username": {"carol"}, "password": {"password-carol"}, "role": {"member"}}), "/users")
		if p := admin.Get("/users"); p.TestID("flash-success").Text() == "" || p.Doc.Find(`[data-username="carol"]`).Length() != 1 {
			t.Fatalf("carol not listed: %.500s", p.Body)
		}
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		admin.Get("/users")
		p := admin.Post("/users", url.Values{"username": {"bob"}, "password": {"password-x"}, "role": {"member"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if p.TestID("error-username").Text() != "The username bob is taken." {
			t.Fatalf("error %q", p.TestID("error-username").Text())
		}
	})
	t.Run("ErrMissingFields", func(t *testing.T) {
		admin.Get("/users")
		p := admin.Post("/users", url.Values{"role": {"member"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if p.TestID("error-username").Text() != "Username is required." {
			t.Fatalf("error %q", p.TestID("error-username").Text())
		}
	})
	t.Run("ErrAdminRemovesOwner", func(t *testing.T) {
		admin.Get("/users")
		p := admin.Post("/users/"+strconv.FormatInt(owner.ID, 10)+"/delete", url.Values{})
		wantStatus(t, p, http.StatusForbidden)
		if p.TestID("error-message").Text() != "You cannot remove the owner." {
			t.Fatalf("message %q", p.TestID("error-message").Text())
		}
	})
	t.Run("OKChangeRole", func(t *testing.T) {
		admin.Get("/users")
		wantRedirect(t, admin.Post("/users/"+strconv.FormatInt(bob.ID, 10)+"/role", url.Values{"role": {"admin"}}), "/users")
		if u, _ := app.Store.FindUserByID(t.Context(), bob.ID); u.Role != store.RoleAdmin {
			t.Fatalf("bob is %s", u.Role)
		}
		app.Store.UpdateUserRole(t.Context(), owner, bob.ID, store.RoleMember)
	})
	t.Run("ErrMember", func(t *testing.T) {
		member := app.NewBrowser(t)
		member.MustLogin("bob")
		home := member.Get("/")
		if home.TestID("nav-users").Length() != 0 {
			t.Error("member sees the Users link")
		}
		wantStatus(t, member.Get("/users"), http.StatusForbidden)
		p := member.Post("/users", url.Values{"username": {"mallory"}, "password": {"password-m"}, "role": {"admin"}})
		wantStatus(t, p, http.StatusForbidden)
		if _, err := app.Store.FindUserByUsername(t.Context(), "mallory"); err == nil {
			t.Fatal("member created a user")
		}
	})
}
