package settings

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// settingsPath is the Settings page: signing keys, the signature policy
// and permissions.
const settingsPath = "/settings"

// settings shows the Settings page.
func (h *Handlers) settings(c echo.Context) error {
	return h.renderSettings(c, http.StatusOK, views.SettingsData{})
}

// renderSettings renders the page with d's forms (fresh ones where nil)
// and the stored keys, policy and permissions.
func (h *Handlers) renderSettings(c echo.Context, status int, d views.SettingsData) error {
	var err error
	if d.Keys, err = h.store.FindTrustedKeys(page.Ctx(c)); err != nil {
		return err
	}
	if d.Policy, err = h.store.FindSignaturePolicy(page.Ctx(c)); err != nil {
		return err
	}
	if d.Permissions, err = h.store.FindPermissions(page.Ctx(c)); err != nil {
		return err
	}
	for _, f := range []**views.Form{&d.KeyForm, &d.PolicyForm, &d.PermForm} {
		if *f == nil {
			*f = views.NewForm()
		}
	}
	return page.Render(c, status, views.SettingsPage(h.Chrome(c, "Settings", views.NavSettings), d))
}

// privateKeyPasted answers a private key pasted where the public one
// belongs; the key is not stored and not shown back.
const privateKeyPasted = "That is a private key: it was not kept and is not shown again. " +
	"Paste the public key (NAME.public.pem) instead, and make a new pair if the private key may have been seen."

// settingsInvalid re-renders the page with err on the form it belongs to
// (key, policy or permissions).
func (h *Handlers) settingsInvalid(c echo.Context, form string, err error) error {
	f := views.NewForm()
	status := page.FormError(f, err)
	if status == http.StatusInternalServerError {
		return err
	}
	d := views.SettingsData{}
	switch form {
	case "key":
		f.Values["name"], f.Values["pem"] = c.FormValue("name"), c.FormValue("pem")
		if strings.Contains(f.Values["pem"], "PRIVATE KEY") {
			f.Values["pem"] = "" // never sent back, nor kept
			f.Errors["pem"] = privateKeyPasted
		}
		d.KeyForm = f
	case "policy":
		d.PolicyForm = f
	default:
		d.PermForm = f
	}
	return h.renderSettings(c, status, d)
}

// addTrustedKey trusts a pasted public key under a name.
func (h *Handlers) addTrustedKey(c echo.Context) error {
	k, err := h.store.CreateTrustedKey(page.Ctx(c), page.CurrentUser(c).Username, c.FormValue("name"), c.FormValue("pem"))
	if err != nil {
		return h.settingsInvalid(c, "key", err)
	}
	return h.FlashRedirect(c, "Trusted the key "+k.Name+": packages it signs show “signed by "+k.Name+"”.", settingsPath)
}

// deleteTrustedKey stops trusting a key.
func (h *Handlers) deleteTrustedKey(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return plugboard.Errorf(plugboard.ENOTFOUND, "No trusted key %q.", c.Param("id"))
	}
	if err := h.store.DeleteTrustedKey(page.Ctx(c), page.CurrentUser(c).Username, id); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Deleted the key: packages it signed now show as untrusted.", settingsPath)
}

// saveSignaturePolicy changes which packages may be installed.
func (h *Handlers) saveSignaturePolicy(c echo.Context) error {
	p := store.SignaturePolicy(c.FormValue("policy"))
	if err := h.store.SetSignaturePolicy(page.Ctx(c), page.CurrentUser(c).Username, p); err != nil {
		return h.settingsInvalid(c, "policy", err)
	}
	return h.FlashRedirect(c, "Signature policy: "+p.Label()+".", settingsPath)
}
