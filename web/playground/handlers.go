// Package playground serves the tool playground: the picker, the form
// generated from a tool's parameters, the run pane beside it streaming the
// run's messages over SSE, history, rerun, cancel, files, and "copy as
// curl". Runs are started, followed and cancelled by app/invoke; the
// handlers parse forms and render.
package playground

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

// Config is what the playground needs beyond the shared kit.
type Config struct {
	Daemon *client.Client
	// Runs invokes tools for users (app/invoke's Service).
	Runs runner
	// Credentials lists a provider's credentials for the picker.
	Credentials *store.Credentials
	// PublicURL is the app's base URL as plugins reach it ("" uses the
	// request's); uploaded files are passed to tools as URLs under it.
	PublicURL string
	// DaemonAPIURL and DaemonKey are the daemon's address and API key as a
	// user on this machine reaches it, for "copy as curl"; the key is
	// given to admins on demand, never written into a page.
	DaemonAPIURL, DaemonKey string
}

// Handlers serves the playground.
type Handlers struct {
	*page.Kit
	cfg     Config
	store   *store.DB
	daemon  *client.Client
	invoker runner
}

// New returns the playground handlers.
func New(kit *page.Kit, cfg Config) *Handlers {
	return &Handlers{Kit: kit, cfg: cfg, store: kit.Store, daemon: cfg.Daemon, invoker: cfg.Runs}
}

// Routes registers the playground: every signed-in user may use it (and
// sees only their own runs); the daemon key is for admins.
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.GET("/playground", h.playground, ch.SignedIn...)
	e.GET("/playground/runs", h.runs, ch.SignedIn...)
	e.POST("/playground/runs", h.createRun, ch.SignedIn...)
	e.GET("/playground/runs/:id", h.runPage, ch.SignedIn...)
	e.GET("/playground/runs/:id/events", h.runEvents, ch.SignedIn...)
	e.GET("/playground/runs/:id/files/:n", h.runFile, ch.SignedIn...)
	// Files uploaded with a run, for the plugin: the unguessable, expiring
	// token is the authorisation.
	e.GET("/playground/files/:token", h.runUpload)
	e.POST("/playground/runs/:id/cancel", h.cancelRun, ch.SignedIn...)
	e.POST("/playground/runs/:id/rerun", h.rerunRun, ch.SignedIn...)
	e.POST("/playground/runs/:id/delete", h.deleteRun, ch.SignedIn...)
	e.GET("/playground/daemon-key", h.daemonKey, ch.Admins...)
}
