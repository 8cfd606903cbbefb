package playground

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// rerunRun starts a run's tool again with the run's parameters, uploaded
// files and credential, answered like a run started from the form. Secret
// parameters are never stored, so their values come from the request's
// fields (the page's "Run again" sends the tool form's secret inputs); one
// left empty is asked for in the form.
func (h *Handlers) rerunRun(c echo.Context) error {
	old, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	t, err := h.playgroundTool(page.Ctx(c), runPick(old))
	if err != nil {
		return h.toolProblem(c, views.PlaygroundPage{Form: views.NewForm()}, err)
	}
	secrets := map[string]string{}
	for _, p := range t.Params {
		if p.Type == plugboard.ParamSecret {
			secrets[p.Name] = c.FormValue(views.ParamField(p.Name))
		}
	}
	r, err := h.invoker.Rerun(page.Ctx(c), old, h.caller(c), secrets)
	if err != nil {
		f := defaultToolForm(t)
		fillFromRun(f, t, old)
		return h.runRefused(c, t, f, err)
	}
	return h.showStartedRun(c, r)
}
