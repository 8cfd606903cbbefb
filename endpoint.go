package plugboard

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
