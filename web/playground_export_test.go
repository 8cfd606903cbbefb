package web

// ParseParam exposes parseParam to the external tests.
var ParseParam = parseParam
