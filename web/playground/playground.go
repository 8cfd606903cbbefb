package playground

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// playground shows the tool picker and, with ?pick=, the tool's form; with
// &from=<run id> the form is filled from that run (secrets left empty).
func (h *Handlers) playground(c echo.Context) error {
	pg := views.PlaygroundPage{Form: views.NewForm()}
	entries, err := h.daemon.Tools(page.Ctx(c), 1, page.PluginListSize)
	if err != nil {
		pg.Problem = page.DaemonProblem(err)
	}
	pg.Tools = toolChoices(entries)
	if pick := c.QueryParam("pick"); pick != "" {
		t, err := h.playgroundTool(page.Ctx(c), pick)
		if err != nil {
			return h.toolProblem(c, pg, err)
		}
		pg.Picked = t
		pg.Form = defaultToolForm(t)
		if from := c.QueryParam("from"); from != "" {
			r, err := h.visibleRun(c, from)
			if err != nil {
				return err
			}
			fillFromRun(pg.Form, t, r)
		}
	}
	return page.Render(c, http.StatusOK, views.Playground(h.Chrome(c, "Playground", views.NavPlayground), pg))
}

// toolChoices lists every tool of every provider, sorted by plugin.
func toolChoices(entries []apispec.ToolProviderEntry) []views.ToolChoice {
	var out []views.ToolChoice
	for _, e := range entries {
		if e.Declaration == nil {
			continue
		}
		group := e.PluginID + " · " + e.Provider
		for _, t := range e.Declaration.Tools {
			label := t.Identity.Label.English()
			if label == "" {
				label = t.Identity.Name
			}
			out = append(out, views.ToolChoice{Pick: e.PluginID + ":" + e.Provider + ":" + t.Identity.Name, Group: group, Label: label})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}

// playgroundTool loads the tool named by pick (plugin:provider:tool) and
// the provider's credentials.
func (h *Handlers) playgroundTool(ctx context.Context, pick string) (*views.PlaygroundTool, error) {
	parts := strings.Split(pick, ":")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, plugboard.Errorf(plugboard.ENOTFOUND, "%q does not name a tool (want plugin:provider:tool).", pick)
	}
	tool, err := h.invoker.FindTool(ctx, parts[0], parts[1], parts[2])
	if err != nil {
		return nil, err
	}
	t := &views.PlaygroundTool{PluginID: tool.PluginID, Provider: tool.Provider, Tool: tool.Name,
		Label: tool.Declaration.Identity.Label.English(), Description: tool.Declaration.Description.Human.English(),
		Params: tool.Declaration.Parameters, Credentials: tool.Credentials}
	if d := tool.ProviderDeclaration; d != nil {
		t.NeedsCredentials = len(d.Credentials) > 0
		t.RequiredCredentials = views.RequiredCredentialFields(d.Credentials)
	}
	if t.Label == "" {
		t.Label = t.Tool
	}
	return t, nil
}

// renderToolForm re-renders the tool's form: in place for htmx (the
// request targeted the run pane, so the answer is retargeted), else the
// whole playground.
func (h *Handlers) renderToolForm(c echo.Context, status int, t *views.PlaygroundTool, f *views.Form) error {
	ch := h.Chrome(c, "Playground", views.NavPlayground)
	if page.IsHTMX(c) {
		c.Response().Header().Set("HX-Retarget", "#tool-form")
		c.Response().Header().Set("HX-Reswap", "outerHTML")
		return page.Render(c, status, views.ToolForm(ch, t, f))
	}
	entries, _ := h.daemon.Tools(page.Ctx(c), 1, page.PluginListSize)
	pg := views.PlaygroundPage{Tools: toolChoices(entries), Picked: t, Form: f}
	return page.Render(c, status, views.Playground(ch, pg))
}

// toolProblem answers a tool that cannot be loaded: not found is a 404;
// an unreachable daemon shows the playground with the reason (503), or
// says it in a short text for htmx (shown as a toast).
func (h *Handlers) toolProblem(c echo.Context, pg views.PlaygroundPage, err error) error {
	if plugboard.ErrorCode(err) == plugboard.ENOTFOUND {
		return err
	}
	pg.Problem = page.DaemonProblem(err)
	if page.IsHTMX(c) {
		return c.String(http.StatusServiceUnavailable, pg.Problem)
	}
	return page.Render(c, http.StatusServiceUnavailable, views.Playground(h.Chrome(c, "Playground", views.NavPlayground), pg))
}
