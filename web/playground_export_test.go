package web

import (
	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
)

// ParseParam exposes parseParam to the external tests.
var ParseParam = parseParam

// Observation exposes observation to the external tests.
var Observation = observation

// EventView exposes eventView to the external tests.
var EventView = eventView

// RerunSubmission exposes rerunSubmission's result to the external tests.
func RerunSubmission(c echo.Context, t *views.PlaygroundTool, r *store.Run) (params, stored map[string]any, secrets []string, errors map[string]string) {
	sub, _ := rerunSubmission(c, t, r)
	return sub.Params, sub.Stored, sub.Secrets, sub.Form.Errors
}
