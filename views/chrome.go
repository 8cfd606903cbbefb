// Package views holds the admin app's templ components: the layout every page
// shares, the pages, and the partials htmx swaps in. Pages take a Chrome (what
// the layout needs) first, then their own data; they never fetch anything.
package views

import (
	"encoding/json"

	"github.com/plugboard/plugboard/store"
)

// Nav items, for Chrome.Nav.
const (
	NavPlugins = "plugins"
	NavUsers   = "users"
)

// Chrome is what the layout needs on every page.
type Chrome struct {
	Title   string      // page title, before " · Plugboard"
	Nav     string      // the active nav item (NavPlugins, NavUsers) or ""
	User    *store.User // the signed-in user; nil on the sign-in pages
	CSRF    string      // the CSRF token for forms and htmx requests
	Flashes []Flash     // messages from the previous request
	// DaemonDown says why the plugin daemon cannot be reached; "" when it can.
	DaemonDown string
	// Permissions are who may install and debug plugins (see CanInstall).
	Permissions store.Permissions
}

// Flash kinds.
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
)

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // FlashSuccess, FlashError or FlashInfo
	Message string
}

// Can reports whether the signed-in user has at least the role; false when
// signed out. Templates use it to hide controls the server would refuse.
func (c Chrome) Can(min store.Role) bool {
	return c.User != nil && c.User.Role.AtLeast(min)
}

// CSRFField is the name of the hidden form field carrying the CSRF token;
// htmx requests send the header CSRFHeader instead.
const (
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// hxHeaders is the hx-headers attribute value that makes every htmx request
// from the page carry the CSRF token.
func hxHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{CSRFHeader: token})
	return string(b)
}

// htmxConfig configures htmx without inline script (the CSP forbids it):
// no inline indicator styles, and 422 responses (validation errors, see
// package web) are swapped like 200s so re-rendered forms appear.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"responseHandling":[` +
	`{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"422","swap":true},` +
	`{"code":"[45]..","swap":false,"error":true},{"code":"...","swap":false}]}`

// Form is a submitted form for re-rendering: the values the user typed and a
// message per field, plus one for the whole form.
type Form struct {
	Values map[string]string
	Errors map[string]string
	Error  string // a message not tied to one field
}

// NewForm returns an empty form.
func NewForm() *Form { return &Form{Values: map[string]string{}, Errors: map[string]string{}} }

// Value returns a field's value ("" on a nil form).
func (f *Form) Value(name string) string {
	if f == nil {
		return ""
	}
	return f.Values[name]
}

// FieldError returns a field's message ("" when none).
func (f *Form) FieldError(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// Message returns the whole-form message ("" when none).
func (f *Form) Message() string {
	if f == nil {
		return ""
	}
	return f.Error
}

// CanInstall reports whether the signed-in user may install, upgrade and
// uninstall plugins under the install permission (Settings → Permissions).
// Templates use it to hide install controls the server would refuse.
func (c Chrome) CanInstall() bool {
	return c.User != nil && c.permissions().Install.Allows(c.User.Role)
}

// CanDebug reports whether the signed-in user may debug plugins under the
// debug permission.
func (c Chrome) CanDebug() bool {
	return c.User != nil && c.permissions().Debug.Allows(c.User.Role)
}

// permissions are the Chrome's, or the defaults when none were set.
func (c Chrome) permissions() store.Permissions {
	p := c.Permissions
	if p.Install == "" {
		p.Install = store.DefaultPermissions.Install
	}
	if p.Debug == "" {
		p.Debug = store.DefaultPermissions.Debug
	}
	return p
}
