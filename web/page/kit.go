package page

import (
	"context"
	"encoding/gob"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// SessionName is the cookie that carries the session token and flashes.
const SessionName = "plugboard_session"

func init() {
	// Flashes are stored in the cookie session as views.Flash values.
	gob.Register(views.Flash{})
}

// Health tells whether the daemon answers, for the banner on every page.
type Health interface {
	// Problem returns why the daemon cannot be reached, "" when it can.
	Problem(ctx context.Context) string
}

// Kit is what handlers need beyond the request: the cookie sessions (for
// flashes), the daemon's health (for the layout), the store (for audit
// entries) and the log. One Kit is shared by every handler package.
type Kit struct {
	Store    *store.DB
	Sessions *sessions.CookieStore
	Health   Health
	Log      *slog.Logger
	// PublicURL is the app's configured base URL; an https one marks
	// cookies Secure whatever the request's scheme.
	PublicURL string
}

// Secure reports whether the browser reached the app over https: TLS to
// this server, an https public URL, or a trusted proxy's
// X-Forwarded-Proto. Cookies set over it are marked Secure.
func (k *Kit) Secure(c echo.Context) bool {
	return c.Scheme() == "https" || strings.HasPrefix(strings.ToLower(k.PublicURL), "https://")
}

// Session returns the request's cookie session (a new one when the cookie
// is missing or no longer decodes), with Secure set when the browser came
// over https.
func (k *Kit) Session(c echo.Context) *sessions.Session {
	sess, _ := k.Sessions.Get(c.Request(), SessionName)
	opts := *k.Sessions.Options
	opts.Secure = k.Secure(c)
	sess.Options = &opts
	return sess
}

// Flash queues a message for the next page the user sees.
func (k *Kit) Flash(c echo.Context, kind, message string) error {
	sess := k.Session(c)
	sess.AddFlash(views.Flash{Kind: kind, Message: message})
	return sess.Save(c.Request(), c.Response())
}

// FlashRedirect queues a success message and redirects.
func (k *Kit) FlashRedirect(c echo.Context, message, path string) error {
	if err := k.Flash(c, views.FlashSuccess, message); err != nil {
		return err
	}
	return Redirect(c, path)
}

// TakeFlashes returns and clears the queued messages.
func (k *Kit) TakeFlashes(c echo.Context) []views.Flash {
	sess := k.Session(c)
	raw := sess.Flashes()
	if len(raw) == 0 {
		return nil
	}
	sess.Save(c.Request(), c.Response())
	var out []views.Flash
	for _, f := range raw {
		if fl, ok := f.(views.Flash); ok {
			out = append(out, fl)
		}
	}
	return out
}

// Chrome returns what the layout needs for this request: the user, the CSRF
// token, the flashes queued for it and the daemon's reachability.
func (k *Kit) Chrome(c echo.Context, title, nav string) views.Chrome {
	ch := views.Chrome{
		Title:   title,
		Nav:     nav,
		User:    CurrentUser(c),
		CSRF:    CSRFToken(c),
		Flashes: k.TakeFlashes(c),
		// Who may install and debug, for Chrome.CanInstall.
		Permissions: Permissions(c),
	}
	if ch.User != nil && k.Health != nil {
		ch.DaemonDown = k.Health.Problem(c.Request().Context())
	}
	return ch
}

// Audit records what the signed-in user did, for handlers whose change is
// not already audited by the store or a service. detail must never contain
// a secret. A failure to record is logged, not returned: the change itself
// has happened.
func (k *Kit) Audit(c echo.Context, action, target, detail string) {
	k.AuditOutcome(c, Actor(c), action, target, detail, store.OutcomeSuccess)
}

// AuditOutcome records an action by who (the signed-in user, or the name
// typed at a failed sign-in) that ended as outcome.
func (k *Kit) AuditOutcome(c echo.Context, who, action, target, detail, outcome string) {
	if err := k.Store.AuditOutcome(Ctx(c), Truncate(who, 100), action, target, detail, outcome); err != nil {
		k.Log.Error("audit log write failed", "action", action, "target", target, "err", err)
	}
}

// Truncate shortens s to at most n bytes, on a rune boundary.
func Truncate(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
