package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// users lists the users.
func (s *Server) users(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, views.NewForm())
}

func (s *Server) renderUsers(c echo.Context, status int, f *views.Form) error {
	users, err := s.store.FindUsers(ctx(c))
	if err != nil {
		return err
	}
	return s.render(c, status, views.UsersPage(s.chrome(c, "Users", views.NavUsers), users, f))
}

// createUser adds a user with the role chosen (admin or member).
func (s *Server) createUser(c echo.Context) error {
	f := formValues(c, "username", "password", "role")
	role := store.Role(f.Values["role"])
	if role == store.RoleOwner {
		return s.renderUsers(c, formError(f, &store.FieldError{Field: "role", Message: "There is one owner; choose admin or member."}), f)
	}
	u, err := s.store.CreateUser(ctx(c), store.NewUser{Username: f.Values["username"], Password: f.Values["password"], Role: role})
	if err != nil {
		return s.renderUsers(c, formError(f, err), f)
	}
	s.audit(c, store.AuditUserCreate, u.Username, "role "+string(u.Role))
	return s.flashRedirect(c, "Added "+u.Username+" as "+u.Role.Label()+".", "/users")
}

// updateUserRole changes another user's role.
func (s *Server) updateUserRole(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	role := store.Role(c.FormValue("role"))
	before, err := s.store.FindUserByID(ctx(c), id)
	if err != nil {
		return err
	}
	if err := s.store.UpdateUserRole(ctx(c), CurrentUser(c), id, role); err != nil {
		s.auditOutcome(c, actor(c), store.AuditUserRole, before.Username, "to "+string(role)+": "+plugboard.ErrorMessage(err), store.OutcomeRefused)
		return err
	}
	u, err := s.store.FindUserByID(ctx(c), id)
	if err != nil {
		return err
	}
	s.audit(c, store.AuditUserRole, u.Username, string(before.Role)+" → "+string(u.Role))
	return s.flashRedirect(c, u.Username+" is now "+u.Role.Label()+".", "/users")
}

// deleteUser removes another user; their sessions end with them.
func (s *Server) deleteUser(c echo.Context) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	u, err := s.store.FindUserByID(ctx(c), id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx(c), CurrentUser(c), id); err != nil {
		return err
	}
	s.audit(c, store.AuditUserDelete, u.Username, "role "+string(u.Role))
	return s.flashRedirect(c, "Removed "+u.Username+".", "/users")
}

// userID reads the :id path parameter.
func userID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, plugboard.Errorf(plugboard.ENOTFOUND, "There is no user %q.", c.Param("id"))
	}
	return id, nil
}
