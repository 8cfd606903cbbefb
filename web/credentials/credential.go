package credentials

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// credentialsIndex lists the tool providers of installed plugins with their
// credentials, and credentials kept for plugins no longer installed.
func (h *Handlers) credentialsIndex(c echo.Context) error {
	ch := h.Chrome(c, "Credentials", views.NavCredentials)
	var problem string
	entries, err := h.daemon.Tools(page.Ctx(c), 1, page.PluginListSize)
	if err != nil {
		problem = page.DaemonProblem(err)
	}
	creds, err := h.creds.FindCredentials(page.Ctx(c), store.CredentialFilter{})
	if err != nil {
		return err
	}
	return page.Render(c, http.StatusOK, views.CredentialsPage(ch, views.GroupCredentials(entries, creds), problem))
}

// credentialProvider loads the provider named by the path, its schema from
// the daemon and its credentials from the store.
func (h *Handlers) credentialProvider(c echo.Context) (*views.CredentialProvider, error) {
	pluginID := c.Param("author") + "/" + c.Param("name")
	entry, err := h.daemon.Tool(page.Ctx(c), pluginID, c.Param("provider"))
	if err != nil {
		if plugboard.ErrorCode(err) == plugboard.ENOTFOUND {
			return nil, plugboard.Errorf(plugboard.ENOTFOUND, "No installed plugin %s has a tool provider %q.", pluginID, c.Param("provider"))
		}
		return nil, err
	}
	creds, err := h.creds.FindCredentials(page.Ctx(c), store.CredentialFilter{PluginID: pluginID, Provider: entry.Provider})
	if err != nil {
		return nil, err
	}
	p := views.NewCredentialProvider(entry)
	p.Credentials = creds
	return p, nil
}

// credentialProviderPage shows one provider's credentials and the add form.
func (h *Handlers) credentialProviderPage(c echo.Context) error {
	p, err := h.credentialProvider(c)
	if err != nil {
		return err
	}
	return h.renderProvider(c, http.StatusOK, p, defaultCredentialForm(p.Schema))
}

func (h *Handlers) renderProvider(c echo.Context, status int, p *views.CredentialProvider, f *views.Form) error {
	return page.Render(c, status, views.CredentialProviderPage(h.Chrome(c, p.Label+" credentials", views.NavCredentials), p, f))
}

// createCredential validates a new credential with the plugin, then stores
// it. A rejection re-renders the form with the plugin's message.
func (h *Handlers) createCredential(c echo.Context) error {
	p, err := h.credentialProvider(c)
	if err != nil {
		return err
	}
	sub, ok := parseCredentialForm(c, p.Schema, nil)
	sub.Input.PluginID, sub.Input.Provider = p.PluginID, p.Provider
	if !ok {
		askRetype(sub)
		return h.renderProvider(c, http.StatusUnprocessableEntity, p, sub.Form)
	}
	if msg := h.validateCredential(page.Ctx(c), p, sub); msg != "" {
		sub.Form.Error = msg
		askRetype(sub)
		return h.renderProvider(c, http.StatusUnprocessableEntity, p, sub.Form)
	}
	sub.Input.Accepted = true
	cred, err := h.creds.CreateCredential(page.Ctx(c), page.Actor(c), sub.Input)
	if err != nil {
		status := page.FormError(sub.Form, err)
		askRetype(sub)
		return h.renderProvider(c, status, p, sub.Form)
	}
	return h.FlashRedirect(c, "Saved "+cred.Name+"; the plugin accepted it.", p.Path())
}

// validateCredential asks the plugin about the fields; it returns "" when
// the plugin accepts them, else what to show (never a secret).
func (h *Handlers) validateCredential(ctx context.Context, p *views.CredentialProvider, sub credentialSubmission) string {
	ok, err := h.daemon.ValidateCredentials(ctx, p.PluginID, p.Provider, sub.All())
	switch {
	case err != nil:
		return redact(rejection(err), sub.Input.Secrets)
	case !ok:
		return "The plugin says these credentials are not valid."
	}
	return ""
}

// rejection words a failed validation: the plugin's own message when it
// gave one, else why it could not be asked.
func rejection(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		if _, msg := ce.PluginError(); msg != "" {
			return "The plugin rejected these credentials: " + msg
		}
		if ce.Type == apispec.ErrInvoke {
			return "The plugin rejected these credentials: " + plugboard.ErrorMessage(err)
		}
	}
	return "The credentials could not be checked, so nothing was saved: " + page.DaemonProblem(err)
}

// credentialOf loads the credential named by :id and checks that it belongs
// to the provider p.
func (h *Handlers) credentialOf(c echo.Context, p *views.CredentialProvider) (*store.Credential, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err == nil {
		var cred *store.Credential
		cred, err = h.creds.FindCredentialByID(page.Ctx(c), id)
		if err == nil && cred.PluginID == p.PluginID && cred.Provider == p.Provider {
			return cred, nil
		}
	}
	if err != nil && plugboard.ErrorCode(err) != plugboard.ENOTFOUND && !errors.Is(err, strconv.ErrSyntax) {
		return nil, err
	}
	return nil, plugboard.Errorf(plugboard.ENOTFOUND, "%s has no credential %q.", p.Label, c.Param("id"))
}

// providerAndCredential loads both for the routes under a credential.
func (h *Handlers) providerAndCredential(c echo.Context) (*views.CredentialProvider, *store.Credential, error) {
	p, err := h.credentialProvider(c)
	if err != nil {
		return nil, nil, err
	}
	cred, err := h.credentialOf(c, p)
	return p, cred, err
}

// editCredentialPage shows the edit form, secrets masked.
func (h *Handlers) editCredentialPage(c echo.Context) error {
	p, cred, err := h.providerAndCredential(c)
	if err != nil {
		return err
	}
	return h.renderEdit(c, http.StatusOK, p, cred, editCredentialForm(cred))
}

func (h *Handlers) renderEdit(c echo.Context, status int, p *views.CredentialProvider, cred *store.Credential, f *views.Form) error {
	return page.Render(c, status, views.CredentialEditPage(h.Chrome(c, "Edit "+cred.Name, views.NavCredentials), p, cred, f))
}

// updateCredential renames and edits a credential; masked secrets sent back
// unchanged keep their stored values. The plugin validates the result first.
func (h *Handlers) updateCredential(c echo.Context) error {
	p, cred, err := h.providerAndCredential(c)
	if err != nil {
		return err
	}
	stored, err := h.creds.DecryptedCredential(page.Ctx(c), cred.ID)
	if err != nil {
		stored = map[string]any{} // unreadable secrets must be typed again
	}
	sub, ok := parseCredentialForm(c, p.Schema, stored)
	if !ok {
		askRetype(sub)
		return h.renderEdit(c, http.StatusUnprocessableEntity, p, cred, sub.Form)
	}
	if msg := h.validateCredential(page.Ctx(c), p, sub); msg != "" {
		sub.Form.Error = msg
		askRetype(sub)
		return h.renderEdit(c, http.StatusUnprocessableEntity, p, cred, sub.Form)
	}
	sub.Input.Accepted = true
	updated, err := h.creds.UpdateCredential(page.Ctx(c), page.Actor(c), cred.ID, sub.Input)
	if err != nil {
		status := page.FormError(sub.Form, err)
		askRetype(sub)
		return h.renderEdit(c, status, p, cred, sub.Form)
	}
	return h.FlashRedirect(c, "Saved "+updated.Name+"; the plugin accepted it.", p.Path())
}

// deleteCredential removes a credential.
func (h *Handlers) deleteCredential(c echo.Context) error {
	p, cred, err := h.providerAndCredential(c)
	if err != nil {
		return err
	}
	if err := h.creds.DeleteCredential(page.Ctx(c), page.Actor(c), cred.ID); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Deleted "+cred.Name+".", p.Path())
}

// setDefaultCredential makes a credential the provider's default.
func (h *Handlers) setDefaultCredential(c echo.Context) error {
	p, cred, err := h.providerAndCredential(c)
	if err != nil {
		return err
	}
	if err := h.creds.SetDefaultCredential(page.Ctx(c), page.Actor(c), cred.ID); err != nil {
		return err
	}
	return h.FlashRedirect(c, cred.Name+" is now the default.", p.Path())
}

// testCredential re-validates a stored credential with the plugin and
// records when and with what result.
func (h *Handlers) testCredential(c echo.Context) error {
	p, cred, err := h.providerAndCredential(c)
	if err != nil {
		return err
	}
	msg := ""
	all, err := h.creds.DecryptedCredential(page.Ctx(c), cred.ID)
	if err != nil {
		msg = "The stored secret cannot be decrypted; edit the credential and type it again."
	} else {
		msg = h.validateCredential(page.Ctx(c), p, submissionOf(all))
	}
	if err := h.creds.RecordCredentialTest(page.Ctx(c), page.Actor(c), cred.ID, msg == "", msg); err != nil {
		return err
	}
	if msg != "" {
		if err := h.Flash(c, views.FlashError, cred.Name+": "+msg); err != nil {
			return err
		}
		return page.Redirect(c, p.Path())
	}
	return h.FlashRedirect(c, cred.Name+": the plugin accepted it.", p.Path())
}

// submissionOf wraps decrypted fields for validateCredential; string values
// count as secrets for redaction.
func submissionOf(all map[string]any) credentialSubmission {
	in := store.CredentialInput{Values: map[string]any{}, Secrets: map[string]string{}}
	for k, v := range all {
		if s, ok := v.(string); ok {
			in.Secrets[k] = s
		} else {
			in.Values[k] = v
		}
	}
	return credentialSubmission{Input: in}
}
