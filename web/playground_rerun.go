package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
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
	sub, ok := rerunSubmission(c, t, old)
	if !ok {
		return s.renderToolForm(c, http.StatusUnprocessableEntity, t, sub.Form)
	}
	if sub.Files, err = s.store.CopyRunFiles(ctx(c), old.ID); err != nil {
		return err
	}
	r, err := s.startRun(c, t, sub)
	if r == nil {
		return err
	}
	return s.showStartedRun(c, r)
}

// rerunSubmission is the submission of a run's stored parameters, with
// the secret ones read from the request; ok is false when one is missing
// or the run's credential is gone (the form then says which).
func rerunSubmission(c echo.Context, t *views.PlaygroundTool, old *store.Run) (*toolSubmission, bool) {
	sub := &toolSubmission{Form: defaultToolForm(t), Params: map[string]any{}, Stored: map[string]any{}}
	fillFromRun(sub.Form, t, old)
	for _, p := range t.Params {
		v, given := old.Params[p.Name]
		switch {
		case !given || isFileParam(p):
		case p.Type == plugboard.ParamSecret:
			raw := c.FormValue(views.ParamField(p.Name))
			if raw == "" {
				sub.Form.Errors[views.ParamField(p.Name)] = p.Name + " is secret, and runs do not keep secrets: type it here, then run again."
				continue
			}
			sub.Params[p.Name], sub.Stored[p.Name] = raw, redacted
			sub.Secrets = append(sub.Secrets, raw)
		default:
			sub.Params[p.Name], sub.Stored[p.Name] = v, v
		}
	}
	if old.CredentialID != 0 {
		if sub.pickCredential(t, strconv.FormatInt(old.CredentialID, 10)) != "" {
			sub.Form.Errors["credential"] = "The run's credential no longer exists; choose another and run."
		}
	}
	return sub, len(sub.Form.Errors) == 0
}
