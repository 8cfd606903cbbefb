// Package install serves getting plugins in: upload and the install
// preview, the examples, the Marketplace tab and its version picker and
// auto-upgrade setting, GitHub releases and their settings, and the install
// tasks. What may be installed, from where, and the audit of it is
// app/install's; the handlers parse, call it and render.
package install

import (
	"time"

	"github.com/labstack/echo/v4"

	appinstall "github.com/plugboard/plugboard/app/install"
	"github.com/plugboard/plugboard/app/marketplace"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/store/secret"
	"github.com/plugboard/plugboard/web/page"
)

// Config is what the install pages need beyond the shared kit.
type Config struct {
	Daemon   *client.Client
	Installs installService
	// Market is the marketplace client; nil when there is none.
	Market *marketplace.Client
	// GitHub makes GitHub clients with the saved settings.
	GitHub *appinstall.GitHubClients
	// Keys seals the GitHub token; nil leaves the GitHub settings unsaved.
	Keys *secret.Keyring
	// Now is the current time (the task indicator counts recent failures).
	Now func() time.Time
}

// Handlers serves the install pages.
type Handlers struct {
	*page.Kit
	store    *store.DB
	daemon   *client.Client
	installs installService
	market   *marketplace.Client
	github   *appinstall.GitHubClients
	keys     *secret.Keyring
	now      func() time.Time
}

// New returns the install handlers.
func New(kit *page.Kit, cfg Config) *Handlers {
	return &Handlers{Kit: kit, store: kit.Store, daemon: cfg.Daemon, installs: cfg.Installs, market: cfg.Market,
		github: cfg.GitHub, keys: cfg.Keys, now: cfg.Now}
}

// Routes registers the install pages: installers (the install permission)
// change things, every signed-in user may look.
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.POST("/plugins/upload", h.uploadPackage, ch.Installers...)
	e.POST("/plugins/install", h.install, ch.Installers...)
	e.GET("/examples/icon", h.exampleIcon, ch.SignedIn...)
	e.POST("/examples/install", h.installExample, ch.Installers...)
	e.GET("/marketplace", h.marketplacePage, ch.SignedIn...)
	e.GET("/marketplace/:author/:name", h.marketplaceDetail, ch.SignedIn...)
	e.POST("/marketplace/install", h.marketplaceInstall, ch.Installers...)
	e.POST("/plugins/:author/:name/auto-upgrade", h.saveAutoUpgrade, ch.Installers...)
	e.GET("/marketplace/:author/:name/:version/icon", h.marketplaceIcon, ch.SignedIn...)
	e.GET("/github", h.githubPage, ch.Installers...)
	e.GET("/github/releases", h.githubReleasesFragment, ch.Installers...)
	e.POST("/github/preview", h.githubPreview, ch.Installers...)
	e.GET("/github/updates/:author/:name", h.githubUpdates, ch.Installers...)
	e.POST("/github/settings", h.saveGitHubSettings, ch.AdminsWithKeys...)
	e.GET("/tasks", h.tasks, ch.SignedIn...)
	e.GET("/tasks/indicator", h.taskIndicator, ch.SignedIn...)
	e.GET("/tasks/:id", h.task, ch.SignedIn...)
	e.POST("/tasks/:id/delete", h.deleteTask, ch.Admins...)
	e.POST("/tasks/delete", h.deleteAllTasks, ch.Admins...)
}
