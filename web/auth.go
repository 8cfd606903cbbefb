package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// setupForm shows first-run setup, or sends to sign-in once it is done.
func (s *Server) setupForm(c echo.Context) error {
	done, err := s.setupDone(c)
	if err != nil || done {
		return err
	}
	return s.render(c, http.StatusOK, views.SetupPage(s.chrome(c, "Set up", ""), views.NewForm()))
}

// setup creates the owner and signs them in.
func (s *Server) setup(c echo.Context) error {
	done, err := s.setupDone(c)
	if err != nil || done {
		return err
	}
	f := formValues(c, "username", "password", "confirm")
	u, err := s.createOwner(c, f)
	if err != nil {
		return s.render(c, formError(f, err), views.SetupPage(s.chrome(c, "Set up", ""), f))
	}
	if err := s.signIn(c, u); err != nil {
		return err
	}
	s.audit(c, store.AuditSetup, u.Username, "created the owner account")
	return s.flashRedirect(c, "Welcome, "+u.Username+". You are the owner of this Plugboard.", "/")
}

func (s *Server) createOwner(c echo.Context, f *views.Form) (*store.User, error) {
	if f.Values["password"] != f.Values["confirm"] {
		return nil, &store.FieldError{Field: "confirm", Message: "The passwords don't match."}
	}
	return s.store.CreateOwner(ctx(c), f.Values["username"], f.Values["password"])
}

// setupDone redirects to /login and reports true when the owner exists.
func (s *Server) setupDone(c echo.Context) (bool, error) {
	n, err := s.store.CountUsers(ctx(c))
	if err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil
	}
	return true, s.redirect(c, "/login")
}

// loginForm shows the sign-in page (setup first when there are no users).
func (s *Server) loginForm(c echo.Context) error {
	if CurrentUser(c) != nil {
		return s.redirect(c, localPath(c.QueryParam("next")))
	}
	n, err := s.store.CountUsers(ctx(c))
	if err != nil {
		return err
	}
	if n == 0 {
		return s.redirect(c, "/setup")
	}
	return s.render(c, http.StatusOK, views.LoginPage(s.chrome(c, "Sign in", ""), views.NewForm(), localPath(c.QueryParam("next"))))
}

// login checks the throttle, then the password, and signs the user in.
// Wrong usernames and wrong passwords get the same message.
func (s *Server) login(c echo.Context) error {
	f := formValues(c, "username", "password")
	next := localPath(c.FormValue("next"))
	u, err := s.authenticate(c, f.Values["username"], f.Values["password"])
	if err != nil {
		f.Error = plugboard.ErrorMessage(err)
		status := statusOf(plugboard.ErrorCode(err))
		outcome := store.OutcomeFailure
		if plugboard.ErrorCode(err) == plugboard.EFORBIDDEN {
			status, outcome = http.StatusTooManyRequests, store.OutcomeRefused
		}
		s.auditOutcome(c, f.Values["username"], store.AuditLogin, f.Values["username"], f.Error, outcome)
		return s.render(c, status, views.LoginPage(s.chrome(c, "Sign in", ""), f, next))
	}
	if err := s.signIn(c, u); err != nil {
		return err
	}
	s.auditOutcome(c, u.Username, store.AuditLogin, u.Username, "", store.OutcomeSuccess)
	return s.redirect(c, next)
}

// authenticate admits the attempt past the throttle of this account from
// this client address (counted as a failure until it succeeds), then
// checks the password.
func (s *Server) authenticate(c echo.Context, username, password string) (*store.User, error) {
	addr := c.RealIP()
	if err := s.store.BeginLoginAttempt(ctx(c), username, addr); err != nil {
		return nil, err
	}
	u, err := s.store.Authenticate(ctx(c), username, password)
	if err != nil {
		return nil, err
	}
	return u, s.store.ClearLoginFailures(ctx(c), username, addr)
}

// logout ends the session.
func (s *Server) logout(c echo.Context) error {
	if u := CurrentUser(c); u != nil {
		s.audit(c, store.AuditLogout, u.Username, "")
	}
	if err := s.signOut(c); err != nil {
		return err
	}
	if err := s.flash(c, views.FlashInfo, "You are signed out."); err != nil {
		return err
	}
	return s.redirect(c, "/login")
}

// passwordForm shows the change-password page.
func (s *Server) passwordForm(c echo.Context) error {
	return s.render(c, http.StatusOK, views.PasswordPage(s.chrome(c, "Change password", ""), views.NewForm()))
}

// changePassword sets a new password; every other session of the user ends,
// and this one continues under a new session.
func (s *Server) changePassword(c echo.Context) error {
	f := formValues(c, "current", "new", "confirm")
	u := CurrentUser(c)
	err := s.setPassword(c, u, f)
	if err != nil {
		s.auditOutcome(c, u.Username, store.AuditPasswordChange, u.Username, plugboard.ErrorMessage(err), store.OutcomeFailure)
		return s.render(c, formError(f, err), views.PasswordPage(s.chrome(c, "Change password", ""), f))
	}
	s.audit(c, store.AuditPasswordChange, u.Username, "other sessions signed out")
	if err := s.signIn(c, u); err != nil {
		return err
	}
	return s.flashRedirect(c, "Password changed. Your other sessions were signed out.", "/")
}

func (s *Server) setPassword(c echo.Context, u *store.User, f *views.Form) error {
	if f.Values["new"] != f.Values["confirm"] {
		return &store.FieldError{Field: "confirm", Message: "The new passwords don't match."}
	}
	return s.store.ChangePassword(ctx(c), u.ID, f.Values["current"], f.Values["new"])
}
