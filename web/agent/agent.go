// Package agent serves the agent playground: the builder (model, tools
// with a credential per provider, instructions), a run's pane streaming
// its steps over SSE, cancel, history, re-run and export as JSON. Runs
// are started, followed and cancelled by app/agent; the handlers read
// forms and render.
package agent

import (
	"github.com/labstack/echo/v4"

	appagent "github.com/plugboard/plugboard/app/agent"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/daemon/client"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/web/page"
)

// Config is what the agent playground needs beyond the shared kit.
type Config struct {
	Daemon *client.Client
	Agent  *appagent.Service
	Models *models.Service
	// Credentials lists a provider's credentials (masked) for the picker.
	Credentials *store.Credentials
	// PublicURL is the app's base URL as plugins reach it ("" uses the
	// request's).
	PublicURL string
}

// Handlers serves the agent playground.
type Handlers struct {
	*page.Kit
	cfg Config
}

// New returns the handlers.
func New(kit *page.Kit, cfg Config) *Handlers { return &Handlers{Kit: kit, cfg: cfg} }

// Routes registers the agent playground: every signed-in user may use it
// with every installed tool and stored credential, as the tool playground
// allows, and sees only their own runs (admins all).
func (h *Handlers) Routes(e *echo.Echo, ch page.Chains) {
	e.GET("/agent", h.builder, ch.SignedIn...)
	e.POST("/agent/runs", h.createRun, ch.SignedIn...)
	e.GET("/agent/runs/:id", h.runPage, ch.SignedIn...)
	e.GET("/agent/runs/:id/events", h.runEvents, ch.SignedIn...)
	e.GET("/agent/runs/:id/export", h.exportRun, ch.SignedIn...)
	e.POST("/agent/runs/:id/cancel", h.cancelRun, ch.SignedIn...)
	e.POST("/agent/runs/:id/rerun", h.rerunRun, ch.SignedIn...)
}
