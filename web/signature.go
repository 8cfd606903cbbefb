package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/errs"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// settingsPath is the Settings page: signing keys, the signature policy
// and permissions.
const settingsPath = "/settings"

// settings shows the Settings page.
func (s *Server) settings(c echo.Context) error {
	return s.renderSettings(c, http.StatusOK, views.SettingsData{})
}

// renderSettings renders the page with d's forms (fresh ones where nil)
// and the stored keys, policy and permissions.
func (s *Server) renderSettings(c echo.Context, status int, d views.SettingsData) error {
	var err error
	if d.Keys, err = s.store.FindTrustedKeys(ctx(c)); err != nil {
		return err
	}
	if d.Policy, err = s.store.FindSignaturePolicy(ctx(c)); err != nil {
		return err
	}
	if d.Permissions, err = s.store.FindPermissions(ctx(c)); err != nil {
		return err
	}
	for _, f := range []**views.Form{&d.KeyForm, &d.PolicyForm, &d.PermForm} {
		if *f == nil {
			*f = views.NewForm()
		}
	}
	return s.render(c, status, views.SettingsPage(s.chrome(c, "Settings", views.NavSettings), d))
}

// privateKeyPasted answers a private key pasted where the public one
// belongs; the key is not stored and not shown back.
const privateKeyPasted = "That is a private key: it was not kept and is not shown again. " +
	"Paste the public key (NAME.public.pem) instead, and make a new pair if the private key may have been seen."

// settingsInvalid re-renders the page with err on the form it belongs to
// (key, policy or permissions).
func (s *Server) settingsInvalid(c echo.Context, form string, err error) error {
	f := views.NewForm()
	status := formError(f, err)
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
	return s.renderSettings(c, status, d)
}

// addTrustedKey trusts a pasted public key under a name.
func (s *Server) addTrustedKey(c echo.Context) error {
	k, err := s.store.CreateTrustedKey(ctx(c), CurrentUser(c).Username, c.FormValue("name"), c.FormValue("pem"))
	if err != nil {
		return s.settingsInvalid(c, "key", err)
	}
	return s.flashRedirect(c, "Trusted the key "+k.Name+": packages it signs show “signed by "+k.Name+"”.", settingsPath)
}

// deleteTrustedKey stops trusting a key.
func (s *Server) deleteTrustedKey(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.Errorf(errs.NotFound, "No trusted key %q.", c.Param("id"))
	}
	if err := s.store.DeleteTrustedKey(ctx(c), CurrentUser(c).Username, id); err != nil {
		return err
	}
	return s.flashRedirect(c, "Deleted the key: packages it signed now show as untrusted.", settingsPath)
}

// saveSignaturePolicy changes which packages may be installed.
func (s *Server) saveSignaturePolicy(c echo.Context) error {
	p := store.SignaturePolicy(c.FormValue("policy"))
	if err := s.store.SetSignaturePolicy(ctx(c), CurrentUser(c).Username, p); err != nil {
		return s.settingsInvalid(c, "policy", err)
	}
	return s.flashRedirect(c, "Signature policy: "+p.Label()+".", settingsPath)
}

// signatures returns the recorded signatures of installed plugins, by
// unique identifier, for their cards.
func (s *Server) signatures(c echo.Context, list []apispec.Installation) map[string]views.Signature {
	uids := make([]string, len(list))
	for i, p := range list {
		uids[i] = p.PluginUniqueIdentifier
	}
	found, err := s.store.FindVerdicts(ctx(c), uids)
	if err != nil {
		s.log.Warn("read signature verdicts", "err", err)
		return nil
	}
	out := make(map[string]views.Signature, len(found))
	for uid, v := range found {
		out[uid] = views.SignatureOfRecord(v)
	}
	return out
}

// signatureOf returns one package's recorded signature (an empty one when
// it was never previewed here).
func (s *Server) signatureOf(c echo.Context, uid string) views.Signature {
	return s.signatures(c, []apispec.Installation{{PluginUniqueIdentifier: uid}})[uid]
}
