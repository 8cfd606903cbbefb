package agent

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appagent "github.com/plugboard/plugboard/app/agent"
	"github.com/plugboard/plugboard/app/invoke"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// createRun starts the builder's agent and shows its run; a refusal
// re-renders the builder with the user's input and the reason (422).
func (h *Handlers) createRun(c echo.Context) error {
	form, sp, err := readForm(c)
	if err == nil {
		err = h.continued(c, &sp)
	}
	if err == nil {
		var r *store.AgentRun
		if r, err = h.cfg.Agent.Start(page.Ctx(c), appagent.Request{Caller: h.caller(c), Spec: sp}); err == nil {
			return page.Redirect(c, "/agent/runs/"+r.ID)
		}
	}
	code := plugboard.ErrorCode(err)
	if code != plugboard.EINVALID && code != plugboard.ENOTFOUND {
		return err
	}
	return h.render(c, http.StatusUnprocessableEntity, form, nil, plugboard.ErrorMessage(err))
}

// continued gives sp the conversation of the run the form continues
// (continue=<run id>), if any: its history, message and answer.
func (h *Handlers) continued(c echo.Context, sp *appagent.Spec) error {
	id := c.FormValue("continue")
	if id == "" {
		return nil
	}
	r, err := h.visibleRun(c, id)
	if err != nil {
		return err
	}
	var prev appagent.Spec
	if err := prev.Decode(r.Spec); err != nil {
		return err
	}
	sp.History = prev.Continued(r.Answer, sp.Query).History
	return nil
}

func (h *Handlers) caller(c echo.Context) invoke.Caller {
	u := page.CurrentUser(c)
	base := strings.TrimRight(h.cfg.PublicURL, "/")
	if base == "" {
		base = c.Scheme() + "://" + c.Request().Host
	}
	return invoke.Caller{UserID: u.ID, Username: u.Username, BaseURL: base}
}

// visibleRun loads an agent run the signed-in user may see: members their
// own, admins all; anything else is "not found".
func (h *Handlers) visibleRun(c echo.Context, id string) (*store.AgentRun, error) {
	r, err := h.Store.FindAgentRun(page.Ctx(c), id)
	if err != nil {
		return nil, err
	}
	u := page.CurrentUser(c)
	if u == nil || (r.UserID != u.ID && !u.Role.AtLeast(store.RoleAdmin)) {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "There is no agent run %q.", id)
	}
	return r, nil
}

// runView is a run as the pane shows it.
func runView(r *store.AgentRun) (*views.AgentRun, error) {
	v := &views.AgentRun{Run: r}
	if err := v.Spec.Decode(r.Spec); err != nil {
		return nil, err
	}
	steps, err := appagent.DecodeSteps(r.Steps)
	v.Steps = steps
	return v, err
}

// runPage is the builder filled from the run beside its pane.
func (h *Handlers) runPage(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	v, err := runView(r)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, formOf(r.Spec), v, "")
}

// cancelRun stops a live run (the model's call and the running tools);
// its page shows it ending.
func (h *Handlers) cancelRun(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	if !h.cfg.Agent.Cancel(r.ID) {
		h.Flash(c, views.FlashInfo, "The run had already ended.")
	}
	return page.Redirect(c, "/agent/runs/"+r.ID)
}

// rerunRun starts the run's agent again, as the signed-in user.
func (h *Handlers) rerunRun(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	var sp appagent.Spec
	if err := sp.Decode(r.Spec); err != nil {
		return err
	}
	nr, err := h.cfg.Agent.Start(page.Ctx(c), appagent.Request{Caller: h.caller(c), Spec: sp})
	if err != nil {
		code := plugboard.ErrorCode(err)
		if code != plugboard.EINVALID && code != plugboard.ENOTFOUND {
			return err
		}
		return h.render(c, http.StatusUnprocessableEntity, formOf(r.Spec), nil, plugboard.ErrorMessage(err))
	}
	return page.Redirect(c, "/agent/runs/"+nr.ID)
}

// export is a run as the JSON download holds it.
type export struct {
	ID          string          `json:"id"`
	User        string          `json:"user"`
	Status      string          `json:"status"`
	Answer      string          `json:"answer"`
	Error       string          `json:"error,omitempty"`
	TotalTokens int             `json:"total_tokens"`
	CreatedAt   time.Time       `json:"created_at"`
	EndedAt     *time.Time      `json:"ended_at,omitempty"`
	Spec        appagent.Spec   `json:"spec"`
	Steps       []appagent.Step `json:"steps"`
}

// exportRun downloads the run — its spec, steps (the model's text, each
// tool call's arguments, observation, files and timings, usage) and
// answer — as JSON. Nothing secret is in it: credentials are named by id.
func (h *Handlers) exportRun(c echo.Context) error {
	r, err := h.visibleRun(c, c.Param("id"))
	if err != nil {
		return err
	}
	v, err := runView(r)
	if err != nil {
		return err
	}
	out := export{ID: r.ID, User: r.Username, Status: r.Status, Answer: r.Answer, Error: r.Error, TotalTokens: r.TotalTokens,
		CreatedAt: r.CreatedAt, Spec: v.Spec, Steps: v.Steps}
	if !r.EndedAt.IsZero() {
		out.EndedAt = &r.EndedAt
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="agent-run-`+r.ID+`.json"`)
	return c.Blob(http.StatusOK, "application/json", b)
}
