package account

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// users lists the users.
func (h *Handlers) users(c echo.Context) error {
	return h.renderUsers(c, http.StatusOK, views.NewForm())
}

func (h *Handlers) renderUsers(c echo.Context, status int, f *views.Form) error {
	users, err := h.store.FindUsers(page.Ctx(c))
	if err != nil {
		return err
	}
	return page.Render(c, status, views.UsersPage(h.Chrome(c, "Users", views.NavUsers), users, f))
}

// createUser adds a user with the role chosen (admin or member).
func (h *Handlers) createUser(c echo.Context) error {
	f := page.FormValues(c, "username", "password", "role")
	role := store.Role(f.Values["role"])
	if role == store.RoleOwner {
		return h.renderUsers(c, page.FormError(f, &store.FieldError{Field: "role", Message: "There is one owner; choose admin or member."}), f)
	}
	u, err := h.store.CreateUser(page.Ctx(c), store.NewUser{Username: f.Values["username"], Password: f.Values["password"], Role: role})
	if err != nil {
		return h.renderUsers(c, page.FormError(f, err), f)
	}
	h.Audit(c, store.AuditUserCreate, u.Username, "role "+string(u.Role))
	return h.FlashRedirect(c, "Added "+u.Username+" as "+u.Role.Label()+".", "/users")
}

// updateUserRole changes another user's role.
func (h *Handlers) updateUserRole(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	role := store.Role(c.FormValue("role"))
	before, err := h.store.FindUserByID(page.Ctx(c), id)
	if err != nil {
		return err
	}
	if err := h.store.UpdateUserRole(page.Ctx(c), page.CurrentUser(c), id, role); err != nil {
		h.AuditOutcome(c, page.Actor(c), store.AuditUserRole, before.Username, "to "+string(role)+": "+plugboard.ErrorMessage(err), store.OutcomeRefused)
		return err
	}
	u, err := h.store.FindUserByID(page.Ctx(c), id)
	if err != nil {
		return err
	}
	h.Audit(c, store.AuditUserRole, u.Username, string(before.Role)+" → "+string(u.Role))
	return h.FlashRedirect(c, u.Username+" is now "+u.Role.Label()+".", "/users")
}

// deleteUser removes another user; their sessions end with them.
func (h *Handlers) deleteUser(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := h.store.FindUserByID(page.Ctx(c), id)
	if err != nil {
		return err
	}
	if err := h.store.DeleteUser(page.Ctx(c), page.CurrentUser(c), id); err != nil {
		return err
	}
	h.Audit(c, store.AuditUserDelete, u.Username, "role "+string(u.Role))
	return h.FlashRedirect(c, "Removed "+u.Username+".", "/users")
}

// userID reads the :id path parameter.
func userID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, plugboard.Errorf(plugboard.ENOTFOUND, "There is no user %q.", c.Param("id"))
	}
	return id, nil
}
