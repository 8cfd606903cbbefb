package api

import "github.com/labstack/echo/v4"

// debugKeyReply is Dify's {"key": uuid}.
type debugKeyReply struct {
	Key string `json:"key"`
}

// debugKey answers POST debugging/key: the tenant's remote debugging key,
// the same on every call until it is regenerated.
func (s *server) debugKey(c echo.Context) error {
	key, err := s.m.DebugKey(c.Request().Context(), c.Param("tenant_id"))
	if err != nil {
		return err
	}
	return ok(c, debugKeyReply{Key: key})
}

// regenerateDebugKey answers POST debugging/key/regenerate with a new key;
// the old one stops working for new connections.
func (s *server) regenerateDebugKey(c echo.Context) error {
	key, err := s.m.RegenerateDebugKey(c.Request().Context(), c.Param("tenant_id"))
	if err != nil {
		return err
	}
	return ok(c, debugKeyReply{Key: key})
}
