package pkgfmt

import (
	"slices"
	"strings"

	"github.com/plugboard/plugboard"
)

// endpointMethods are the methods Dify routes to endpoints.
var endpointMethods = []string{"HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS"}

// parseEndpointGroup decodes and validates an endpoint group yaml and the
// endpoint files it names.
func parseEndpointGroup(file string, files fileSet, w *findings) (*plugboard.EndpointGroup, error) {
	data, _ := files.get(file)
	g := new(plugboard.EndpointGroup)
	d, err := parseDoc(file, data, g, w)
	if err != nil {
		return nil, err
	}
	if g.Settings, err = parseFields(d, "settings"); err != nil {
		return nil, err
	}
	if g.EndpointFiles, err = declFiles(d, "endpoints", "endpoint", files); err != nil {
		return nil, err
	}
	if len(g.EndpointFiles) == 0 {
		return nil, d.errorf("endpoints", "an endpoint group needs a list of endpoint yaml files")
	}
	g.Endpoints = make([]plugboard.Endpoint, 0, len(g.EndpointFiles))
	for _, p := range g.EndpointFiles {
		data, _ := files.get(p)
		e, err := parseEndpoint(p, data, w)
		if err != nil {
			return nil, err
		}
		g.Endpoints = append(g.Endpoints, *e)
	}
	return g, nil
}

// parseEndpoint decodes and validates one endpoint yaml.
func parseEndpoint(file string, data []byte, w *findings) (*plugboard.Endpoint, error) {
	e := new(plugboard.Endpoint)
	d, err := parseDoc(file, data, e, w)
	if err != nil {
		return nil, err
	}
	switch {
	case e.Path == "":
		return nil, d.errorf("path", "required (like /webhook)")
	case !strings.HasPrefix(e.Path, "/"):
		return nil, d.errorf("path", "%q must start with /", e.Path)
	case e.Method == "":
		return nil, d.errorf("method", "required (%s)", strings.Join(endpointMethods, ", "))
	}
	if !slices.Contains(endpointMethods, e.Method) {
		d.warnf("method", "%q is not a method Dify routes to endpoints (%s)", e.Method, strings.Join(endpointMethods, ", "))
	}
	return e, nil
}
