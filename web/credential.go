package web

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
)

// credentials is the credential store with the server's keyring.
func (s *Server) credentials() *store.Credentials { return s.store.Credentials(s.cfg.Keys) }

// credentialsIndex lists the tool providers of installed plugins with their
// credentials, and credentials kept for plugins no longer installed.
func (s *Server) credentialsIndex(c echo.Context) error {
	ch := s.chrome(c, "Credentials", views.NavCredentials)
	var problem string
	entries, err := s.daemon.Tools(ctx(c), 1, pluginListSize)
	if err != nil {
		problem = daemonProblem(err)
	}
	creds, err := s.credentials().FindCredentials(ctx(c), store.CredentialFilter{})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.CredentialsPage(ch, views.GroupCredentials(entries, creds), problem))
}

// credentialProvider loads the provider named by the path, its schema from
// the daemon and its credentials from the store.
func (s *Server) credentialProvider(c echo.Context) (*views.CredentialProvider, error) {
	pluginID := c.Param("author") + "/" + c.Param("name")
	entry, err := s.daemon.Tool(ctx(c), pluginID, c.Param("provider"))
	if err != nil {
		if plugboard.ErrorCode(err) == plugboard.ENOTFOUND {
			return nil, plugboard.Errorf(plugboard.ENOTFOUND, "No installed plugin %s has a tool provider %q.", pluginID, c.Param("provider"))
		}
		return nil, err
	}
	creds, err := s.credentials().FindCredentials(ctx(c), store.CredentialFilter{PluginID: pluginID, Provider: entry.Provider})
	if err != nil {
		return nil, err
	}
	p := views.NewCredentialProvider(entry)
	p.Credentials = creds
	return p, nil
}

// credentialProviderPage shows one provider's credentials and the add form.
func (s *Server) credentialProviderPage(c echo.Context) error {
	p, err := s.credentialProvider(c)
	if err != nil {
		return err
	}
	return s.renderProvider(c, http.StatusOK, p, defaultCredentialForm(p.Schema))
}

func (s *Server) renderProvider(c echo.Context, status int, p *views.CredentialProvider, f *views.Form) error {
	return s.render(c, status, views.CredentialProviderPage(s.chrome(c, p.Label+" credentials", views.NavCredentials), p, f))
}

// createCredential validates a new credential with the plugin, then stores
// it. A rejection re-renders the form with the plugin's message.
func (s *Server) createCredential(c echo.Context) error {
	p, err := s.credentialProvider(c)
	if err != nil {
		return err
	}
	sub, ok := parseCredentialForm(c, p.Schema, nil)
	sub.Input.PluginID, sub.Input.Provider = p.PluginID, p.Provider
	if !ok {
		askRetype(sub)
		return s.renderProvider(c, http.StatusUnprocessableEntity, p, sub.Form)
	}
	if msg := s.validateCredential(ctx(c), p, sub); msg != "" {
		sub.Form.Error = msg
		askRetype(sub)
		return s.renderProvider(c, http.StatusUnprocessableEntity, p, sub.Form)
	}
	sub.Input.Accepted = true
	cred, err := s.credentials().CreateCredential(ctx(c), actor(c), sub.Input)
	if err != nil {
		status := formError(sub.Form, err)
		askRetype(sub)
		return s.renderProvider(c, status, p, sub.Form)
	}
	return s.flashRedirect(c, "Saved "+cred.Name+"; the plugin accepted it.", p.Path())
}

// validateCredential asks the plugin about the fields; it returns "" when
// the plugin accepts them, else what to show (never a secret).
func (s *Server) validateCredential(ctx context.Context, p *views.CredentialProvider, sub credentialSubmission) string {
	ok, err := s.daemon.ValidateCredentials(ctx, p.PluginID, p.Provider, sub.All())
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
	return "The credentials could not be checked, so nothing was saved: " + daemonProblem(err)
}

// credentialOf loads the credential named by :id and checks that it belongs
// to the provider p.
func (s *Server) credentialOf(c echo.Context, p *views.CredentialProvider) (*store.Credential, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err == nil {
		var cred *store.Credential
		cred, err = s.credentials().FindCredentialByID(ctx(c), id)
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
func (s *Server) providerAndCredential(c echo.Context) (*views.CredentialProvider, *store.Credential, error) {
	p, err := s.credentialProvider(c)
	if err != nil {
		return nil, nil, err
	}
	cred, err := s.credentialOf(c, p)
	return p, cred, err
}

// editCredentialPage shows the edit form, secrets masked.
func (s *Server) editCredentialPage(c echo.Context) error {
	p, cred, err := s.providerAndCredential(c)
	if err != nil {
		return err
	}
	return s.renderEdit(c, http.StatusOK, p, cred, editCredentialForm(cred))
}

func (s *Server) renderEdit(c echo.Context, status int, p *views.CredentialProvider, cred *store.Credential, f *views.Form) error {
	return s.render(c, status, views.CredentialEditPage(s.chrome(c, "Edit "+cred.Name, views.NavCredentials), p, cred, f))
}

// updateCredential renames and edits a credential; masked secrets sent back
// unchanged keep their stored values. The plugin validates the result first.
func (s *Server) updateCredential(c echo.Context) error {
	p, cred, err := s.providerAndCredential(c)
	if err != nil {
		return err
	}
	stored, err := s.credentials().DecryptedCredential(ctx(c), cred.ID)
	if err != nil {
		stored = map[string]any{} // unreadable secrets must be typed again
	}
	sub, ok := parseCredentialForm(c, p.Schema, stored)
	if !ok {
		askRetype(sub)
		return s.renderEdit(c, http.StatusUnprocessableEntity, p, cred, sub.Form)
	}
	if msg := s.validateCredential(ctx(c), p, sub); msg != "" {
		sub.Form.Error = msg
		askRetype(sub)
		return s.renderEdit(c, http.StatusUnprocessableEntity, p, cred, sub.Form)
	}
	sub.Input.Accepted = true
	updated, err := s.credentials().UpdateCredential(ctx(c), actor(c), cred.ID, sub.Input)
	if err != nil {
		status := formError(sub.Form, err)
		askRetype(sub)
		return s.renderEdit(c, status, p, cred, sub.Form)
	}
	return s.flashRedirect(c, "Saved "+updated.Name+"; the plugin accepted it.", p.Path())
}

// deleteCredential removes a credential.
func (s *Server) deleteCredential(c echo.Context) error {
	p, cred, err := s.providerAndCredential(c)
	if err != nil {
		return err
	}
	if err := s.credentials().DeleteCredential(ctx(c), actor(c), cred.ID); err != nil {
		return err
	}
	return s.flashRedirect(c, "Deleted "+cred.Name+".", p.Path())
}

// setDefaultCredential makes a credential the provider's default.
func (s *Server) setDefaultCredential(c echo.Context) error {
	p, cred, err := s.providerAndCredential(c)
	if err != nil {
		return err
	}
	if err := s.credentials().SetDefaultCredential(ctx(c), actor(c), cred.ID); err != nil {
		return err
	}
	return s.flashRedirect(c, cred.Name+" is now the default.", p.Path())
}

// testCredential re-validates a stored credential with the plugin and
// records when and with what result.
func (s *Server) testCredential(c echo.Context) error {
	p, cred, err := s.providerAndCredential(c)
	if err != nil {
		return err
	}
	msg := ""
	all, err := s.credentials().DecryptedCredential(ctx(c), cred.ID)
	if err != nil {
		msg = "The stored secret cannot be decrypted; edit the credential and type it again."
	} else {
		msg = s.validateCredential(ctx(c), p, submissionOf(all))
	}
	if err := s.credentials().RecordCredentialTest(ctx(c), actor(c), cred.ID, msg == "", msg); err != nil {
		return err
	}
	if msg != "" {
		if err := s.flash(c, views.FlashError, cred.Name+": "+msg); err != nil {
			return err
		}
		return s.redirect(c, p.Path())
	}
	return s.flashRedirect(c, cred.Name+": the plugin accepted it.", p.Path())
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

// actor is the signed-in user's name, for the audit log.
func actor(c echo.Context) string {
	if u := CurrentUser(c); u != nil {
		return u.Username
	}
	return ""
}
