package plugboard

// DatasourceProvider is a datasource provider yaml (Dify's
// DatasourceProviderDeclaration) with its datasources.
type DatasourceProvider struct {
	Identity     ProviderIdentity  `yaml:"identity" json:"identity"`
	Credentials  []CredentialField `yaml:"-" json:"credentials_schema"`
	OAuthSchema  *OAuthSchema      `yaml:"-" json:"oauth_schema"`
	ProviderType string            `yaml:"provider_type" json:"provider_type"`
	Datasources  []Datasource      `yaml:"-" json:"datasources"`
	// DatasourceFiles are the datasource yaml paths the provider names.
	DatasourceFiles []string `yaml:"-" json:"-"`
}

// Datasource is one datasource yaml (Dify's DatasourceDeclaration).
type Datasource struct {
	Identity     ToolIdentity   `yaml:"identity" json:"identity"`
	Description  I18n           `yaml:"description" json:"description"`
	Parameters   []Input        `yaml:"parameters" json:"parameters"`
	OutputSchema map[string]any `yaml:"output_schema" json:"output_schema,omitempty"`
}
