package account

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// setupForm shows first-run setup, or sends to sign-in once it is done.
func (h *Handlers) setupForm(c echo.Context) error {
	done, err := h.setupDone(c)
	if err != nil || done {
		return err
	}
	return page.Render(c, http.StatusOK, views.SetupPage(h.Chrome(c, "Set up", ""), views.NewForm()))
}

// setup creates the owner and signs them in.
func (h *Handlers) setup(c echo.Context) error {
	done, err := h.setupDone(c)
	if err != nil || done {
		return err
	}
	f := page.FormValues(c, "username", "password", "confirm")
	u, err := h.createOwner(c, f)
	if err != nil {
		return page.Render(c, page.FormError(f, err), views.SetupPage(h.Chrome(c, "Set up", ""), f))
	}
	if err := h.SignIn(c, u); err != nil {
		return err
	}
	h.Audit(c, store.AuditSetup, u.Username, "created the owner account")
	return h.FlashRedirect(c, "Welcome, "+u.Username+". You are the owner of this Plugboard.", "/")
}

func (h *Handlers) createOwner(c echo.Context, f *views.Form) (*store.User, error) {
	if f.Values["password"] != f.Values["confirm"] {
		return nil, &store.FieldError{Field: "confirm", Message: "The passwords don't match."}
	}
	return h.store.CreateOwner(page.Ctx(c), f.Values["username"], f.Values["password"])
}

// setupDone redirects to /login and reports true when the owner exists.
func (h *Handlers) setupDone(c echo.Context) (bool, error) {
	n, err := h.store.CountUsers(page.Ctx(c))
	if err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil
	}
	return true, page.Redirect(c, "/login")
}

// loginForm shows the sign-in page (setup first when there are no users).
func (h *Handlers) loginForm(c echo.Context) error {
	if page.CurrentUser(c) != nil {
		return page.Redirect(c, page.LocalPath(c.QueryParam("next")))
	}
	n, err := h.store.CountUsers(page.Ctx(c))
	if err != nil {
		return err
	}
	if n == 0 {
		return page.Redirect(c, "/setup")
	}
	return page.Render(c, http.StatusOK, views.LoginPage(h.Chrome(c, "Sign in", ""), views.NewForm(), page.LocalPath(c.QueryParam("next"))))
}

// login checks the throttle, then the password, and signs the user in.
// Wrong usernames and wrong passwords get the same message.
func (h *Handlers) login(c echo.Context) error {
	f := page.FormValues(c, "username", "password")
	next := page.LocalPath(c.FormValue("next"))
	u, err := h.authenticate(c, f.Values["username"], f.Values["password"])
	if err != nil {
		f.Error = plugboard.ErrorMessage(err)
		status := page.StatusOf(plugboard.ErrorCode(err))
		outcome := store.OutcomeFailure
		if plugboard.ErrorCode(err) == plugboard.EFORBIDDEN {
			status, outcome = http.StatusTooManyRequests, store.OutcomeRefused
		}
		h.AuditOutcome(c, f.Values["username"], store.AuditLogin, f.Values["username"], f.Error, outcome)
		return page.Render(c, status, views.LoginPage(h.Chrome(c, "Sign in", ""), f, next))
	}
	if err := h.SignIn(c, u); err != nil {
		return err
	}
	h.AuditOutcome(c, u.Username, store.AuditLogin, u.Username, "", store.OutcomeSuccess)
	return page.Redirect(c, next)
}

// authenticate admits the attempt past the throttle of this account from
// this client address (counted as a failure until it succeeds), then
// checks the password.
func (h *Handlers) authenticate(c echo.Context, username, password string) (*store.User, error) {
	addr := c.RealIP()
	if err := h.store.BeginLoginAttempt(page.Ctx(c), username, addr); err != nil {
		return nil, err
	}
	u, err := h.store.Authenticate(page.Ctx(c), username, password)
	if err != nil {
		return nil, err
	}
	return u, h.store.ClearLoginFailures(page.Ctx(c), username, addr)
}

// logout ends the session.
func (h *Handlers) logout(c echo.Context) error {
	if u := page.CurrentUser(c); u != nil {
		h.Audit(c, store.AuditLogout, u.Username, "")
	}
	if err := h.SignOut(c); err != nil {
		return err
	}
	if err := h.Flash(c, views.FlashInfo, "You are signed out."); err != nil {
		return err
	}
	return page.Redirect(c, "/login")
}

// passwordForm shows the change-password page.
func (h *Handlers) passwordForm(c echo.Context) error {
	return page.Render(c, http.StatusOK, views.PasswordPage(h.Chrome(c, "Change password", ""), views.NewForm()))
}

// changePassword sets a new password; every other session of the user ends,
// and this one continues under a new session.
func (h *Handlers) changePassword(c echo.Context) error {
	f := page.FormValues(c, "current", "new", "confirm")
	u := page.CurrentUser(c)
	err := h.setPassword(c, u, f)
	if err != nil {
		h.AuditOutcome(c, u.Username, store.AuditPasswordChange, u.Username, plugboard.ErrorMessage(err), store.OutcomeFailure)
		return page.Render(c, page.FormError(f, err), views.PasswordPage(h.Chrome(c, "Change password", ""), f))
	}
	h.Audit(c, store.AuditPasswordChange, u.Username, "other sessions signed out")
	if err := h.SignIn(c, u); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Password changed. Your other sessions were signed out.", "/")
}

func (h *Handlers) setPassword(c echo.Context, u *store.User, f *views.Form) error {
	if f.Values["new"] != f.Values["confirm"] {
		return &store.FieldError{Field: "confirm", Message: "The new passwords don't match."}
	}
	return h.store.ChangePassword(page.Ctx(c), u.ID, f.Values["current"], f.Values["new"])
}
