package agent

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	appagent "github.com/plugboard/plugboard/app/agent"
	"github.com/plugboard/plugboard/app/models"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// builder is the page without a run: the workspace's default LLM
// preselected, no tool ticked; ?from=<run> fills it from a run.
func (h *Handlers) builder(c echo.Context) error {
	form := views.AgentForm{MaxIterations: appagent.DefaultIterations}
	var run *views.AgentRun
	if from := c.QueryParam("from"); from != "" {
		r, err := h.visibleRun(c, from)
		if err != nil {
			return err
		}
		form = formOf(r.Spec)
	}
	return h.render(c, http.StatusOK, form, run, "")
}

// render renders the page with the form, a run (nil: none) and the form's
// refusal.
func (h *Handlers) render(c echo.Context, status int, form views.AgentForm, run *views.AgentRun, refusal string) error {
	pg, err := h.pageData(c, form)
	if err != nil {
		return err
	}
	pg.Run, pg.Error = run, refusal
	return page.Render(c, status, views.AgentPlayground(h.Chrome(c, "Agent", views.NavAgent), pg))
}

// pageData lists the models, the tool providers with their credentials
// and the user's recent runs; a daemon that cannot be asked is the page's
// problem, not an error.
func (h *Handlers) pageData(c echo.Context, form views.AgentForm) (views.AgentPage, error) {
	ctx := page.Ctx(c)
	pg := views.AgentPage{Form: form}
	providers, err := h.cfg.Models.Providers(ctx)
	if err != nil {
		pg.Problem = page.DaemonProblem(err)
	}
	for _, r := range models.Models(providers, plugboard.ModelLLM) {
		pg.Models = append(pg.Models, views.ModelOption{Key: r.Key(), Label: r.Label})
	}
	if pg.Form.Model == "" {
		if d, err := h.cfg.Models.Default(ctx, plugboard.ModelLLM); err == nil {
			pg.Form.Model = d.Key()
		}
	}
	if pg.Strategies, err = h.cfg.Agent.Strategies(ctx); err != nil && pg.Problem == "" {
		pg.Problem = page.DaemonProblem(err)
	}
	if pg.Providers, err = h.toolProviders(ctx); err != nil && pg.Problem == "" {
		pg.Problem = page.DaemonProblem(err)
	}
	u := page.CurrentUser(c)
	owner := u.ID
	if u.Role.AtLeast(store.RoleAdmin) {
		owner = 0
	}
	if pg.History, err = h.Store.FindAgentRuns(ctx, owner, 20); err != nil {
		return pg, err
	}
	return pg, nil
}

// toolProviders are the installed tool providers with their tools and
// stored credentials, by label.
func (h *Handlers) toolProviders(ctx context.Context) ([]views.AgentProvider, error) {
	entries, err := h.cfg.Daemon.Tools(ctx, 1, page.PluginListSize)
	if err != nil {
		return nil, err
	}
	var out []views.AgentProvider
	for _, e := range entries {
		d := e.Declaration
		if d == nil {
			continue
		}
		p := views.AgentProvider{PluginID: e.PluginID, Provider: e.Provider, Label: cmp.Or(d.Identity.Label.English(), e.Provider),
			NeedsCredentials: len(d.Credentials) > 0}
		for _, t := range d.Tools {
			ref := appagent.ToolRef{PluginID: e.PluginID, Provider: e.Provider, Tool: t.Identity.Name}
			p.Tools = append(p.Tools, views.AgentTool{Key: ref.Key(), Name: t.Identity.Name,
				Label: cmp.Or(t.Identity.Label.English(), t.Identity.Name), Description: t.Description.Human.English(), Params: t.Parameters})
		}
		if p.Credentials, err = h.cfg.Credentials.FindCredentials(ctx, store.CredentialFilter{PluginID: e.PluginID, Provider: e.Provider}); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b views.AgentProvider) int { return strings.Compare(a.Label, b.Label) })
	return out, nil
}

// readForm reads the builder's fields into the form (to re-render) and
// the spec (to run).
func readForm(c echo.Context) (views.AgentForm, appagent.Spec, error) {
	f := views.AgentForm{Model: c.FormValue("model"), Instructions: c.FormValue("instructions"), Query: c.FormValue("query"),
		Strategy: c.FormValue("strategy"), Tools: map[string]bool{}, Credentials: map[string]int64{}}
	f.MaxIterations, _ = strconv.Atoi(c.FormValue("max_iterations"))
	sp := appagent.Spec{Instructions: f.Instructions, Query: f.Query, Strategy: f.Strategy, MaxIterations: f.MaxIterations}
	ref, ok := models.ParseKey(plugboard.ModelLLM, f.Model)
	if !ok {
		return f, sp, plugboard.Errorf(plugboard.EINVALID, "Pick a model.")
	}
	sp.Model = ref
	if st, ok := appagent.ParseStrategyKey(f.Strategy); ok {
		sp.Strategy, sp.Plugin = appagent.StrategyPlugin, &st
	}
	form, _ := c.FormParams()
	for key, vals := range form {
		if name, ok := strings.CutPrefix(key, "cred:"); ok && len(vals) > 0 {
			id, err := strconv.ParseInt(vals[0], 10, 64)
			if err != nil {
				return f, sp, plugboard.Errorf(plugboard.EINVALID, "Pick a credential for %s.", name)
			}
			f.Credentials[name] = id
		}
	}
	for _, key := range form["tool"] {
		parts := strings.Split(key, ":")
		if len(parts) != 3 {
			return f, sp, plugboard.Errorf(plugboard.EINVALID, "%q does not name a tool.", key)
		}
		f.Tools[key] = true
		sp.Tools = append(sp.Tools, appagent.ToolRef{PluginID: parts[0], Provider: parts[1], Tool: parts[2],
			CredentialID: f.Credentials[parts[0]+":"+parts[1]]})
	}
	return f, sp, nil
}

// formOf is the builder filled from a recorded spec.
func formOf(raw []byte) views.AgentForm {
	var sp appagent.Spec
	_ = sp.Decode(raw) // a spec that does not decode leaves the form empty
	f := views.AgentForm{Model: sp.Model.Key(), Instructions: sp.Instructions, Query: sp.Query, Strategy: sp.Strategy,
		MaxIterations: cmp.Or(sp.MaxIterations, appagent.DefaultIterations), Tools: map[string]bool{}, Credentials: map[string]int64{}}
	if sp.Plugin != nil {
		f.Strategy = sp.Plugin.Key()
	}
	for _, t := range sp.Tools {
		f.Tools[t.Key()] = true
		if t.CredentialID != 0 {
			f.Credentials[t.PluginID+":"+t.Provider] = t.CredentialID
		}
	}
	return f
}
