package web

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/views"
)

// rerunRun starts a run's tool again with the run's parameters, uploaded
// files and credential, answered like a run started from the form. Secret
// parameters are never stored, so their values come from the request's
// fields (the page's "Run again" sends the tool form's secret inputs); one
// left empty is asked for in the form.
func (s *Server) rerunRun(c echo.Context) error {
	old, err := s.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	t, err := s.playgroundTool(ctx(c), runPick(old))
	if err != nil {
		return s.toolProblem(c, views.PlaygroundPage{Form: views.NewForm()}, err)
	}
	secrets := map[string]string{}
	for _, p := range t.Params {
		if p.Type == plugboard.ParamSecret {
			secrets[p.Name] = c.FormValue(views.ParamField(p.Name))
		}
	}
	r, err := s.invoker.Rerun(ctx(c), old, s.caller(c), secrets)
	if err != nil {
		f := defaultToolForm(t)
		fillFromRun(f, t, old)
		return s.runRefused(c, t, f, err)
	}
	return s.showStartedRun(c, r)
}
