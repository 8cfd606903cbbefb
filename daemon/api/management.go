package api

import (
	"mime"
	"net/http"
	"path"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/daemon/apispec"
)

// Paging bounds.
const (
	defaultPageSize = 20
	maxPageSize     = 256
	defaultLogLines = 200
	maxLogLines     = 10000
)

func (s *server) install(c echo.Context) error {
	var req apispec.InstallRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if len(req.PluginUniqueIdentifiers) == 0 {
		return plugboard.Errorf(plugboard.EINVALID, "plugin_unique_identifiers must list at least one package")
	}
	res, err := s.m.Install(c.Request().Context(), c.Param("tenant_id"), req)
	if err != nil {
		return err
	}
	return ok(c, res)
}

func (s *server) upgrade(c echo.Context) error {
	var req apispec.UpgradeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.OriginalPluginUniqueIdentifier == "" || req.NewPluginUniqueIdentifier == "" {
		return plugboard.Errorf(plugboard.EINVALID, "original_plugin_unique_identifier and new_plugin_unique_identifier are required")
	}
	res, err := s.m.Upgrade(c.Request().Context(), c.Param("tenant_id"), req)
	if err != nil {
		return err
	}
	return ok(c, res)
}

func (s *server) tasks(c echo.Context) error {
	page, size, err := paging(c)
	if err != nil {
		return err
	}
	list, err := s.m.Tasks(c.Request().Context(), c.Param("tenant_id"), page, size)
	if err != nil {
		return err
	}
	if list == nil {
		list = []apispec.Task{}
	}
	return ok(c, list)
}

func (s *server) task(c echo.Context) error {
	t, err := s.m.Task(c.Request().Context(), c.Param("tenant_id"), c.Param("id"))
	if err != nil {
		return err
	}
	return ok(c, t)
}

func (s *server) deleteTask(c echo.Context) error {
	if err := s.m.DeleteTask(c.Request().Context(), c.Param("tenant_id"), c.Param("id")); err != nil {
		return err
	}
	return ok(c, true)
}

func (s *server) deleteAllTasks(c echo.Context) error {
	if err := s.m.DeleteTask(c.Request().Context(), c.Param("tenant_id"), ""); err != nil {
		return err
	}
	return ok(c, true)
}

func (s *server) uninstall(c echo.Context) error {
	var req apispec.UninstallRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.PluginInstallationID == "" {
		return plugboard.Errorf(plugboard.EINVALID, "plugin_installation_id is required")
	}
	if err := s.m.Uninstall(c.Request().Context(), c.Param("tenant_id"), req.PluginInstallationID); err != nil {
		return inPlugin(err)
	}
	return ok(c, true)
}

// addMCPServer starts and installs a stdio MCP server (manager.AddMCPServer).
func (s *server) addMCPServer(c echo.Context) error {
	var req apispec.MCPServerRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	inst, err := s.m.AddMCPServer(c.Request().Context(), c.Param("tenant_id"), req)
	if err != nil {
		return inPlugin(err)
	}
	return ok(c, inst)
}

func (s *server) list(c echo.Context) error {
	page, size, err := paging(c)
	if err != nil {
		return err
	}
	res, err := s.m.List(c.Request().Context(), c.Param("tenant_id"), page, size)
	if err != nil {
		return err
	}
	return ok(c, res)
}

func (s *server) fetchManifest(c echo.Context) error {
	id, err := query(c, "plugin_unique_identifier")
	if err != nil {
		return err
	}
	man, err := s.m.Manifest(c.Request().Context(), id)
	if err != nil {
		return inPlugin(err)
	}
	return ok(c, man)
}

// fetchReadme answers a stored package's README markdown ("" when it has none).
func (s *server) fetchReadme(c echo.Context) error {
	id, err := query(c, "plugin_unique_identifier")
	if err != nil {
		return err
	}
	readme, err := s.m.Readme(c.Request().Context(), id, c.QueryParam("language"))
	if err != nil {
		return inPlugin(err)
	}
	return ok(c, readme)
}

// decodeFromIdentifier answers like Dify: identifier, manifest, verification.
func (s *server) decodeFromIdentifier(c echo.Context) error {
	id, err := query(c, "plugin_unique_identifier")
	if err != nil {
		return err
	}
	man, err := s.m.Manifest(c.Request().Context(), id)
	if err != nil {
		return inPlugin(err)
	}
	return ok(c, apispec.UploadResult{UniqueIdentifier: id, Manifest: man, Warnings: []plugboard.Warning{}})
}

func (s *server) tools(c echo.Context) error {
	page, size, err := paging(c)
	if err != nil {
		return err
	}
	list, err := s.m.Tools(c.Request().Context(), c.Param("tenant_id"), page, size)
	if err != nil {
		return err
	}
	if list == nil {
		list = []apispec.ToolProviderEntry{}
	}
	return ok(c, list)
}

func (s *server) tool(c echo.Context) error {
	pluginID, err := query(c, "plugin_id")
	if err != nil {
		return err
	}
	provider, err := query(c, "provider")
	if err != nil {
		return err
	}
	t, err := s.m.Tool(c.Request().Context(), c.Param("tenant_id"), pluginID, provider)
	if err != nil {
		return inPlugin(err)
	}
	return ok(c, t)
}

func (s *server) status(c echo.Context) error {
	pluginID, err := query(c, "plugin_id")
	if err != nil {
		return err
	}
	st, err := s.m.Status(c.Request().Context(), c.Param("tenant_id"), pluginID)
	if err != nil {
		return inPlugin(err)
	}
	return ok(c, st)
}

func (s *server) logs(c echo.Context) error {
	pluginID, err := query(c, "plugin_id")
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", defaultLogLines, maxLogLines)
	if err != nil {
		return err
	}
	entries, err := s.m.Logs(c.Request().Context(), c.Param("tenant_id"), pluginID, limit)
	if err != nil {
		return inPlugin(err)
	}
	if entries == nil {
		entries = []apispec.LogEntry{}
	}
	return ok(c, entries)
}

// asset returns a file of a stored package's _assets as raw bytes.
func (s *server) asset(c echo.Context) error {
	id, err := query(c, "plugin_unique_identifier")
	if err != nil {
		return err
	}
	name, err := query(c, "name")
	if err != nil {
		return err
	}
	data, err := s.m.Asset(c.Request().Context(), id, name)
	if err != nil {
		return inPlugin(err)
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	c.Response().Header().Set("Cache-Control", "private, max-age=86400")
	return c.Blob(http.StatusOK, ctype, data)
}

// query returns a required query parameter.
func query(c echo.Context, name string) (string, error) {
	v := c.QueryParam(name)
	if v == "" {
		return "", plugboard.Errorf(plugboard.EINVALID, "query parameter %s is required", name)
	}
	return v, nil
}

// paging reads page (from 1) and page_size (1..maxPageSize).
func paging(c echo.Context) (page, size int, err error) {
	if page, err = intParam(c, "page", 1, 1<<30); err != nil {
		return 0, 0, err
	}
	size, err = intParam(c, "page_size", defaultPageSize, maxPageSize)
	return page, size, err
}

// intParam reads an optional positive integer query parameter up to max.
func intParam(c echo.Context, name string, def, max int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, plugboard.Errorf(plugboard.EINVALID, "query parameter %s must be an integer from 1 to %d, not %q", name, max, v)
	}
	return n, nil
}
