package plugins

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/app/mcpserver"
	"github.com/plugboard/plugboard/daemon/apispec"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// mcpPage is the form to add a stdio MCP server.
func (h *Handlers) mcpPage(c echo.Context) error {
	return page.Render(c, http.StatusOK, views.MCPServerPage(h.Chrome(c, "Add an MCP server", views.NavPlugins), views.NewForm()))
}

// addMCP reads the form and asks app/install to add the server; a refusal
// (bad input, a server that does not start) re-renders the form with 422
// and the daemon's words, the environment asked for again.
func (h *Handlers) addMCP(c echo.Context) error {
	f := mcpserver.StdioForm{Name: c.FormValue("name"), Command: c.FormValue("command"), Args: c.FormValue("args"), Env: c.FormValue("env")}
	url := strings.TrimSpace(c.FormValue("url"))
	var inst *apispec.Installation
	var err error
	switch {
	case url != "" && strings.TrimSpace(f.Command) != "":
		err = &store.FieldError{Field: "url", Message: "Give a command or a URL, not both."}
	case h.mcp == nil:
		err = errors.New("MCP servers are not available here")
	case url != "":
		inst, err = h.mcp.Add(page.Ctx(c), page.CurrentUser(c), mcpserver.Form{Name: f.Name, URL: url, Token: c.FormValue("token"), Headers: c.FormValue("headers")})
	default:
		inst, err = h.mcp.AddStdio(page.Ctx(c), page.CurrentUser(c), f)
	}
	if err != nil {
		form := views.NewForm()
		form.Values["name"], form.Values["command"], form.Values["args"], form.Values["url"] = f.Name, f.Command, f.Args, url
		status := page.FormError(form, err)
		msg := form.Error
		switch {
		case strings.HasPrefix(msg, "name"):
			form.Errors["name"], form.Error = msg, ""
		case strings.HasPrefix(msg, "command"):
			form.Errors["command"], form.Error = msg, ""
		case strings.HasPrefix(msg, "environment"):
			form.Errors["env"], form.Error = msg, ""
		}
		if status < 400 || status == http.StatusInternalServerError || status == http.StatusServiceUnavailable {
			status = http.StatusUnprocessableEntity
		}
		return page.Render(c, status, views.MCPServerPage(h.Chrome(c, "Add an MCP server", views.NavPlugins), form))
	}
	return h.FlashRedirect(c, "MCP server "+f.Name+" added with "+toolCount(inst.Declaration.Tool.Tools)+".", views.PluginPath(inst.PluginID))
}

func toolCount[T any](tools []T) string {
	if len(tools) == 1 {
		return "1 tool"
	}
	return strconv.Itoa(len(tools)) + " tools"
}
