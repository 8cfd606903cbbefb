// Package credentials serves the credentials of tool providers: the list by
// provider, add (validated by the plugin's validate_credentials), edit with
// masked secrets, delete, the default credential, and testing one.
package credentials

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

// Handlers serves the credentials pages.
type Handlers struct {
	*page.Kit
	daemon *client.Client
	creds  *store.Credentials
}

// New returns the credentials handlers; creds seals and opens the secrets.
func New(kit *page.Kit, daemon *client.Client, creds *store.Credentials) *Handlers {
	return &Handlers{Kit: kit, daemon: daemon, creds: creds}
}

// Routes registers the credentials pages, for admins.
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.GET("/credentials", h.credentialsIndex, ch.Admins...)
	e.GET("/credentials/:author/:name/:provider", h.credentialProviderPage, ch.Admins...)
	e.POST("/credentials/:author/:name/:provider", h.createCredential, ch.Admins...)
	e.GET("/credentials/:author/:name/:provider/:id/edit", h.editCredentialPage, ch.Admins...)
	e.POST("/credentials/:author/:name/:provider/:id", h.updateCredential, ch.Admins...)
	e.POST("/credentials/:author/:name/:provider/:id/delete", h.deleteCredential, ch.Admins...)
	e.POST("/credentials/:author/:name/:provider/:id/default", h.setDefaultCredential, ch.Admins...)
	e.POST("/credentials/:author/:name/:provider/:id/test", h.testCredential, ch.Admins...)
}
