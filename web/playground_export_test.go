package web

// ParseParam exposes parseParam to the external tests.
var ParseParam = parseParam

// EventView exposes eventView to the external tests.
var EventView = eventView
