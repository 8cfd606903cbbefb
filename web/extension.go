package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/netguard"
)

// hiddenKey is the value Dify's web sends for an API key left unchanged;
// like the masked key itself, it keeps the stored key.
const hiddenKey = "[__HIDDEN__]"

// retypeKey is shown when a form with a newly typed key comes back: the
// key is never sent back to the browser.
const retypeKey = "Type the key again: a key you enter is never sent back to the browser."

// extensions lists the API-based extensions.
func (s *Server) extensions(c echo.Context) error {
	return s.renderExtensions(c, http.StatusOK, views.NewForm(), nil)
}

// renderExtensions renders the list with the add form f and the allowlist
// form (nil: the saved allowlist).
func (s *Server) renderExtensions(c echo.Context, status int, f, allow *views.Form) error {
	list, err := s.store.FindExtensions(ctx(c), s.cfg.Keys)
	if err != nil {
		return err
	}
	if allow == nil {
		allow = views.NewForm()
		allow.Values["allowlist"], err = s.savedAllowlist(ctx(c))
		if err != nil {
			return err
		}
	}
	ch := s.chrome(c, "API extensions", views.NavExtensions)
	return s.render(c, status, views.ExtensionsPage(ch, list, f, views.Allowlist{Form: allow, Fixed: s.cfg.OutboundAllow.Entries()}))
}

// createExtension pings the endpoint and, when it answers pong, saves the
// extension with its key sealed.
func (s *Server) createExtension(c echo.Context) error {
	f := formValues(c, "name", "endpoint", "api_key")
	in := extensionInput(f)
	if err := s.checkExtension(ctx(c), "", in); err != nil {
		return s.renderExtensions(c, extensionFormError(f, err, ""), f, nil)
	}
	e, err := s.store.CreateExtension(ctx(c), s.cfg.Keys, CurrentUser(c).Username, in)
	if err != nil {
		return s.renderExtensions(c, extensionFormError(f, err, ""), f, nil)
	}
	return s.flashRedirect(c, "Saved the extension "+e.Name+": its endpoint answered the ping.", "/extensions")
}

// extension shows one extension's edit form and try-it panel.
func (s *Server) extension(c echo.Context) error {
	e, err := s.store.FindExtensionByID(ctx(c), s.cfg.Keys, c.Param("id"))
	if err != nil {
		return err
	}
	f := views.NewForm()
	f.Values["name"], f.Values["endpoint"] = e.Name, e.Endpoint
	if e.KeyErr == nil {
		f.Values["api_key"] = e.MaskedKey
	}
	return s.renderExtension(c, http.StatusOK, e, f, s.tryPanel(e.ID, pointByName(c.QueryParam("point")), nil, nil))
}

func (s *Server) renderExtension(c echo.Context, status int, e *store.Extension, f *views.Form, try views.TryPanel) error {
	return s.render(c, status, views.ExtensionPage(s.chrome(c, e.Name+" · API extensions", views.NavExtensions), e, f, try))
}

// updateExtension pings the endpoint with the new settings and saves them.
// The masked key sent back unchanged keeps the stored key.
func (s *Server) updateExtension(c echo.Context) error {
	e, err := s.store.FindExtensionByID(ctx(c), s.cfg.Keys, c.Param("id"))
	if err != nil {
		return err
	}
	f := formValues(c, "name", "endpoint", "api_key")
	in := extensionInput(f)
	if kept := f.Values["api_key"]; kept == e.MaskedKey || kept == hiddenKey {
		if e.KeyErr != nil {
			f.Values["api_key"] = ""
			f.Errors["api_key"] = "The stored key cannot be decrypted; enter the key again."
			return s.renderExtension(c, http.StatusUnprocessableEntity, e, f, s.tryPanel(e.ID, extensionPoints[0], nil, nil))
		}
		in.APIKey = e.APIKey()
	}
	if err = s.checkExtension(ctx(c), e.ID, in); err == nil {
		_, err = s.store.UpdateExtension(ctx(c), s.cfg.Keys, CurrentUser(c).Username, e.ID, in)
	}
	if err != nil {
		status := extensionFormError(f, err, e.MaskedKey)
		return s.renderExtension(c, status, e, f, s.tryPanel(e.ID, extensionPoints[0], nil, nil))
	}
	return s.flashRedirect(c, "Saved the extension "+in.Name+": its endpoint answered the ping.", "/extensions")
}

// deleteExtension removes an extension.
func (s *Server) deleteExtension(c echo.Context) error {
	e, err := s.store.DeleteExtension(ctx(c), CurrentUser(c).Username, c.Param("id"))
	if err != nil {
		return err
	}
	return s.flashRedirect(c, "Deleted the extension "+e.Name+".", "/extensions")
}

// extensionInput reads the form into what the store takes.
func extensionInput(f *views.Form) store.ExtensionInput {
	return store.ExtensionInput{Name: f.Values["name"], Endpoint: f.Values["endpoint"], APIKey: f.Values["api_key"]}
}

// checkExtension validates the fields, then the endpoint's URL, then pings
// it: only an endpoint that answers pong may be saved.
func (s *Server) checkExtension(ctx context.Context, id string, in store.ExtensionInput) error {
	if err := s.store.CheckExtension(ctx, id, in); err != nil {
		return err
	}
	if _, err := netguard.CheckURL(in.Endpoint); err != nil {
		return &store.FieldError{Field: "endpoint", Message: "The endpoint must be an http(s) URL: " + err.Error() + "."}
	}
	if err := s.extCaller.ping(ctx, in.Endpoint, in.APIKey); err != nil {
		return &store.FieldError{Field: "endpoint", Message: fmt.Sprintf("The ping failed, so nothing was saved: %v.", err)}
	}
	return nil
}

// extensionFormError puts err into the form and makes sure a key the user
// typed is not sent back in the page (masked is the stored key's mask,
// which may be shown).
func extensionFormError(f *views.Form, err error, masked string) int {
	status := formError(f, err)
	if k := f.Values["api_key"]; k != "" && k != masked && k != hiddenKey {
		f.Values["api_key"] = ""
		if f.Errors["api_key"] == "" {
			f.Errors["api_key"] = retypeKey
		}
	}
	return status
}

// needKeys refuses the extension pages when the server has no keyring (a
// misconfigured embedding), instead of failing on the first key.
func (s *Server) needKeys(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Keys == nil {
			return plugboard.Errorf(plugboard.EUNAVAILABLE, "Secrets cannot be stored: this server was started without a keyring.")
		}
		return next(c)
	}
}
