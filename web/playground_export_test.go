package web

// ParseParam exposes parseParam to the external tests.
var ParseParam = parseParam

// Observation exposes observation to the external tests.
var Observation = observation

// EventView exposes eventView to the external tests.
var EventView = eventView
