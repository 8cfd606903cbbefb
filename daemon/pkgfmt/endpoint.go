package pkgfmt

import (
	"slices"
	"strings"
)

// EndpointGroup is an endpoint group yaml (Dify's
// EndpointProviderDeclaration): the settings an endpoint is set up with, and
// its HTTP routes.
type EndpointGroup struct {
	Settings  []CredentialField `yaml:"-" json:"settings"`
	Endpoints []Endpoint        `yaml:"-" json:"endpoints"`
	// CustomInitialize says the plugin sets its endpoints up itself (Dify's
	// SDK 0.3 and later).
	CustomInitialize bool `yaml:"custom_initialize_process_enabled" json:"custom_initialize_process_enabled"`
	// EndpointFiles are the endpoint yaml paths the group names.
	EndpointFiles []string `yaml:"-" json:"-"`
}

// Endpoint is one HTTP route of an endpoint group (Dify's EndpointDeclaration).
type Endpoint struct {
	Path   string `yaml:"path" json:"path"`
	Method string `yaml:"method" json:"method"`
	Hidden bool   `yaml:"hidden" json:"hidden"`
}

// endpointMethods are the methods Dify routes to endpoints.
var endpointMethods = []string{"HEAD", "GET", "POST", "PUT", "DELETE", "OPTIONS"}

// parseEndpointGroup decodes and validates an endpoint group yaml and the
// endpoint files it names.
func parseEndpointGroup(file string, files fileSet, w *findings) (*EndpointGroup, error) {
	data, _ := files.get(file)
	g := new(EndpointGroup)
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
	g.Endpoints = make([]Endpoint, 0, len(g.EndpointFiles))
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
func parseEndpoint(file string, data []byte, w *findings) (*Endpoint, error) {
	e := new(Endpoint)
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
