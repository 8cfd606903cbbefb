package api

import (
	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard/daemon/apispec"
)

// models lists the tenant's model providers with their models (Dify's
// GET management/models, paged like the tools list).
func (s *server) models(c echo.Context) error {
	page, size, err := paging(c)
	if err != nil {
		return err
	}
	list, err := s.m.Models(c.Request().Context(), c.Param("tenant_id"), page, size)
	if err != nil {
		return err
	}
	if list == nil {
		list = []apispec.ModelProviderEntry{}
	}
	return ok(c, list)
}

// model returns one installed plugin's model provider (plugin_id and
// provider in the query, as for management/tool).
func (s *server) model(c echo.Context) error {
	pluginID, err := query(c, "plugin_id")
	if err != nil {
		return err
	}
	provider, err := query(c, "provider")
	if err != nil {
		return err
	}
	p, err := s.m.Model(c.Request().Context(), c.Param("tenant_id"), pluginID, provider)
	if err != nil {
		return inPlugin(err)
	}
	return ok(c, p)
}
