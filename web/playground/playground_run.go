package playground

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// runner is what the playground asks of the invocation service
// (app/invoke): every decision about a run is the service's.
type runner interface {
	FindTool(ctx context.Context, pluginID, provider, tool string) (*invoke.Tool, error)
	Start(ctx context.Context, req invoke.Request) (*store.Run, error)
	Rerun(ctx context.Context, old *store.Run, by invoke.Caller, secrets map[string]string) (*store.Run, error)
	Cancel(runID string) bool
	Delete(ctx context.Context, runID string) error
	Follow(ctx context.Context, runID string, after int) (*store.Run, []store.RunEvent, <-chan struct{}, error)
}

// createRun parses the form and starts the run. An htmx request gets the
// run pane in place of the old one (the form stays as typed, so the next
// run is one click away); others go to the run's page.
func (h *Handlers) createRun(c echo.Context) error {
	t, err := h.playgroundTool(page.Ctx(c), c.FormValue("pick"))
	if err != nil {
		return h.toolProblem(c, views.PlaygroundPage{Form: views.NewForm()}, err)
	}
	sub, ok := parseToolForm(c, t)
	if !ok {
		return h.renderToolForm(c, http.StatusUnprocessableEntity, t, sub.Form)
	}
	req := invoke.Request{Caller: h.caller(c), PluginID: t.PluginID, Provider: t.Provider, Tool: t.Tool,
		Params: sub.Params, CredentialID: sub.CredentialID, NoCredential: sub.CredentialID == 0, Files: sub.Files}
	r, err := h.invoker.Start(page.Ctx(c), req)
	if err != nil {
		return h.runRefused(c, t, sub.Form, err)
	}
	return h.showStartedRun(c, r)
}

// caller is the signed-in user as the invocation service takes them.
func (h *Handlers) caller(c echo.Context) invoke.Caller {
	u := page.CurrentUser(c)
	return invoke.Caller{UserID: u.ID, Username: u.Username, BaseURL: h.publicBase(c)}
}

// runRefused answers a run the service did not start: its problems with
// the request are shown in the form, next to their fields; other errors
// go to the error handler.
func (h *Handlers) runRefused(c echo.Context, t *views.PlaygroundTool, f *views.Form, err error) error {
	var pr *invoke.Problems
	if !errors.As(err, &pr) {
		return err
	}
	for name, msg := range pr.Params {
		f.Errors[views.ParamField(name)] = msg
	}
	if pr.Credential != "" {
		f.Errors["credential"] = pr.Credential
	}
	return h.renderToolForm(c, http.StatusUnprocessableEntity, t, f)
}

// showStartedRun answers a started run: the run pane for htmx (and the
// run's URL for the address bar), else a redirect to the run's page.
func (h *Handlers) showStartedRun(c echo.Context, r *store.Run) error {
	path := "/playground/runs/" + r.ID
	if !page.IsHTMX(c) {
		return page.Redirect(c, path)
	}
	c.Response().Header().Set("HX-Push-Url", path)
	d := h.runPageData(c, r, nil)
	return page.Render(c, http.StatusOK, views.RunPane(h.Chrome(c, "Run "+r.Tool, views.NavPlayground), &d))
}

// visibleRun loads a run the signed-in user may see: members their own,
// admins all. Anything else is "not found".
func (h *Handlers) visibleRun(c echo.Context, id string) (*store.Run, error) {
	r, err := h.store.FindRun(page.Ctx(c), id)
	if err != nil {
		return nil, err
	}
	u := page.CurrentUser(c)
	if u == nil || (r.UserID != u.ID && !u.Role.AtLeast(store.RoleAdmin)) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no run %q.", id)
	}
	return r, nil
}

// runPage shows a run beside its tool's form, filled with the run's
// parameters (secrets and files left out); its output follows over SSE.
func (h *Handlers) runPage(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	var evs []store.RunEvent
	if !r.Running() {
		if evs, err = h.store.RunEvents(page.Ctx(c), r.ID, 0); err != nil {
			return err
		}
	}
	d := h.runPageData(c, r, evs)
	pg := views.PlaygroundPage{Form: views.NewForm(), Run: &d}
	entries, err := h.daemon.Tools(page.Ctx(c), 1, page.PluginListSize)
	if err != nil {
		pg.Problem = page.DaemonProblem(err)
	}
	pg.Tools = toolChoices(entries)
	switch t, err := h.playgroundTool(page.Ctx(c), runPick(r)); {
	case err == nil:
		pg.Picked = t
		pg.Form = defaultToolForm(t)
		fillFromRun(pg.Form, t, r)
	case plugboard.ErrorCode(err) == plugboard.ENOTFOUND:
		pg.Gone = err.Error() + " The run is kept; its form is not."
	}
	return page.Render(c, http.StatusOK, views.Playground(h.Chrome(c, "Run "+r.Tool, views.NavPlayground), pg))
}

// runPick names a run's tool as the picker does.
func runPick(r *store.Run) string { return r.PluginID + ":" + r.Provider + ":" + r.Tool }

// cancelRun stops a live run; the plugin sees the invoke cancelled. An htmx
// request gets no content: the run's event stream shows the new status.
func (h *Handlers) cancelRun(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	h.invoker.Cancel(r.ID)
	if page.IsHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return page.Redirect(c, "/playground/runs/"+r.ID)
}

// deleteRun cancels a live run and removes it with its output.
func (h *Handlers) deleteRun(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.invoker.Delete(page.Ctx(c), r.ID); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Deleted the run of "+r.Tool+".", "/playground/runs")
}
