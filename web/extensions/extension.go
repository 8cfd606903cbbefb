package extensions

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/app/netguard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// hiddenKey is the value Dify's web sends for an API key left unchanged;
// like the masked key itself, it keeps the stored key.
const hiddenKey = "[__HIDDEN__]"

// retypeKey is shown when a form with a newly typed key comes back: the
// key is never sent back to the browser.
const retypeKey = "Type the key again: a key you enter is never sent back to the browser."

// extensions lists the API-based extensions.
func (h *Handlers) extensions(c echo.Context) error {
	return h.renderExtensions(c, http.StatusOK, views.NewForm(), nil)
}

// renderExtensions renders the list with the add form f and the allowlist
// form (nil: the saved allowlist).
func (h *Handlers) renderExtensions(c echo.Context, status int, f, allow *views.Form) error {
	list, err := h.store.FindExtensions(page.Ctx(c), h.keys)
	if err != nil {
		return err
	}
	if allow == nil {
		allow = views.NewForm()
		allow.Values["allowlist"], err = h.outbound.Saved(page.Ctx(c))
		if err != nil {
			return err
		}
	}
	ch := h.Chrome(c, "API extensions", views.NavExtensions)
	return page.Render(c, status, views.ExtensionsPage(ch, list, f, views.Allowlist{Form: allow, Fixed: h.outbound.Fixed()}))
}

// createExtension pings the endpoint and, when it answers pong, saves the
// extension with its key sealed.
func (h *Handlers) createExtension(c echo.Context) error {
	f := page.FormValues(c, "name", "endpoint", "api_key")
	in := extensionInput(f)
	if err := h.checkExtension(page.Ctx(c), "", in); err != nil {
		return h.renderExtensions(c, extensionFormError(f, err, ""), f, nil)
	}
	e, err := h.store.CreateExtension(page.Ctx(c), h.keys, page.CurrentUser(c).Username, in)
	if err != nil {
		return h.renderExtensions(c, extensionFormError(f, err, ""), f, nil)
	}
	return h.FlashRedirect(c, "Saved the extension "+e.Name+": its endpoint answered the ping.", "/extensions")
}

// extension shows one extension's edit form and try-it panel.
func (h *Handlers) extension(c echo.Context) error {
	e, err := h.store.FindExtensionByID(page.Ctx(c), h.keys, c.Param("id"))
	if err != nil {
		return err
	}
	f := views.NewForm()
	f.Values["name"], f.Values["endpoint"] = e.Name, e.Endpoint
	if e.KeyErr == nil {
		f.Values["api_key"] = e.MaskedKey
	}
	return h.renderExtension(c, http.StatusOK, e, f, h.tryPanel(e.ID, pointByName(c.QueryParam("point")), nil, nil))
}

func (h *Handlers) renderExtension(c echo.Context, status int, e *store.Extension, f *views.Form, try views.TryPanel) error {
	return page.Render(c, status, views.ExtensionPage(h.Chrome(c, e.Name+" · API extensions", views.NavExtensions), e, f, try))
}

// updateExtension pings the endpoint with the new settings and saves them.
// The masked key sent back unchanged keeps the stored key.
func (h *Handlers) updateExtension(c echo.Context) error {
	e, err := h.store.FindExtensionByID(page.Ctx(c), h.keys, c.Param("id"))
	if err != nil {
		return err
	}
	f := page.FormValues(c, "name", "endpoint", "api_key")
	in := extensionInput(f)
	if kept := f.Values["api_key"]; kept == e.MaskedKey || kept == hiddenKey {
		if e.KeyErr != nil {
			f.Values["api_key"] = ""
			f.Errors["api_key"] = "The stored key cannot be decrypted; enter the key again."
			return h.renderExtension(c, http.StatusUnprocessableEntity, e, f, h.tryPanel(e.ID, extensionPoints[0], nil, nil))
		}
		in.APIKey = e.APIKey()
	}
	if err = h.checkExtension(page.Ctx(c), e.ID, in); err == nil {
		_, err = h.store.UpdateExtension(page.Ctx(c), h.keys, page.CurrentUser(c).Username, e.ID, in)
	}
	if err != nil {
		status := extensionFormError(f, err, e.MaskedKey)
		return h.renderExtension(c, status, e, f, h.tryPanel(e.ID, extensionPoints[0], nil, nil))
	}
	return h.FlashRedirect(c, "Saved the extension "+in.Name+": its endpoint answered the ping.", "/extensions")
}

// deleteExtension removes an extension.
func (h *Handlers) deleteExtension(c echo.Context) error {
	e, err := h.store.DeleteExtension(page.Ctx(c), page.CurrentUser(c).Username, c.Param("id"))
	if err != nil {
		return err
	}
	return h.FlashRedirect(c, "Deleted the extension "+e.Name+".", "/extensions")
}

// extensionInput reads the form into what the store takes.
func extensionInput(f *views.Form) store.ExtensionInput {
	return store.ExtensionInput{Name: f.Values["name"], Endpoint: f.Values["endpoint"], APIKey: f.Values["api_key"]}
}

// checkExtension validates the fields, then the endpoint's URL, then pings
// it: only an endpoint that answers pong may be saved.
func (h *Handlers) checkExtension(ctx context.Context, id string, in store.ExtensionInput) error {
	if err := h.store.CheckExtension(ctx, id, in); err != nil {
		return err
	}
	if _, err := netguard.CheckURL(in.Endpoint); err != nil {
		return &store.FieldError{Field: "endpoint", Message: "The endpoint must be an http(s) URL: " + err.Error() + "."}
	}
	if err := h.caller.Ping(ctx, in.Endpoint, in.APIKey); err != nil {
		return &store.FieldError{Field: "endpoint", Message: fmt.Sprintf("The ping failed, so nothing was saved: %v.", err)}
	}
	return nil
}

// extensionFormError puts err into the form and makes sure a key the user
// typed is not sent back in the page (masked is the stored key's mask,
// which may be shown).
func extensionFormError(f *views.Form, err error, masked string) int {
	status := page.FormError(f, err)
	if k := f.Values["api_key"]; k != "" && k != masked && k != hiddenKey {
		f.Values["api_key"] = ""
		if f.Errors["api_key"] == "" {
			f.Errors["api_key"] = retypeKey
		}
	}
	return status
}
