package api

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/apispec"
)

// pluginSettings answers GET management/plugin/settings?plugin_id=.
func (s *server) pluginSettings(c echo.Context) error {
	pluginID, err := query(c, "plugin_id")
	if err != nil {
		return err
	}
	st, err := s.m.PluginSettings(c.Request().Context(), c.Param("tenant_id"), pluginID)
	if err != nil {
		return inPlugin(err)
	}
	return ok(c, st)
}

// setPluginSettings answers POST management/plugin/settings.
func (s *server) setPluginSettings(c echo.Context) error {
	var req apispec.PluginSettings
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := requireFields(req.PluginID, "plugin_id"); err != nil {
		return err
	}
	st, err := s.m.SetPluginSettings(c.Request().Context(), c.Param("tenant_id"), req)
	if err != nil {
		return inPlugin(err)
	}
	return ok(c, st)
}
