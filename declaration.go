package plugboard

import "encoding/json"

// I18n is a localized string keyed by locale (en_US, zh_Hans, ja_JP, pt_BR …);
// en_US is required wherever one appears.
type I18n map[string]string

// English returns the en_US text.
func (t I18n) English() string { return t["en_US"] }

// Manifest is a package's manifest.yaml (Dify's PluginDeclaration). Its JSON
// form, with Tool filled in, is the "declaration" the daemon API returns.
type Manifest struct {
	Version     string   `yaml:"version" json:"version"`
	Type        string   `yaml:"type" json:"type"`
	Author      string   `yaml:"author" json:"author"`
	Name        string   `yaml:"name" json:"name"`
	Label       I18n     `yaml:"label" json:"label"`
	Description I18n     `yaml:"description" json:"description"`
	Icon        string   `yaml:"icon" json:"icon"`
	IconDark    string   `yaml:"icon_dark" json:"icon_dark,omitempty"`
	CreatedAt   string   `yaml:"created_at" json:"created_at"`
	Tags        []string `yaml:"tags" json:"tags"`
	Resource    Resource `yaml:"resource" json:"resource"`
	Plugins     Plugins  `yaml:"plugins" json:"plugins"`
	Meta        Meta     `yaml:"meta" json:"meta"`
	Privacy     string   `yaml:"privacy" json:"privacy,omitempty"`
	Repo        string   `yaml:"repo" json:"repo,omitempty"`

	// Verified is computed from the signature, never read from the file.
	Verified bool `yaml:"-" json:"verified"`
	// Tool is the package's tool provider with its tools, read from the files
	// Plugins.Tools names (nil when the package has none).
	Tool *ToolProvider `yaml:"-" json:"tool"`
	// Model is the package's model provider with its predefined models,
	// read from the file Plugins.Models names (nil when it has none).
	Model *ModelProvider `yaml:"-" json:"model,omitempty"`
	// Endpoint, AgentStrategy, Datasource and Trigger are the package's other
	// declarations, read from the files Plugins names (nil when it has none).
	// They are validated and shown, not dispatched yet.
	Endpoint      *EndpointGroup         `yaml:"-" json:"endpoint,omitempty"`
	AgentStrategy *AgentStrategyProvider `yaml:"-" json:"agent_strategy,omitempty"`
	Datasource    *DatasourceProvider    `yaml:"-" json:"datasource,omitempty"`
	Trigger       *TriggerProvider       `yaml:"-" json:"trigger,omitempty"`
}

// PluginID is "author/name", the identity of a plugin across versions.
func (m *Manifest) PluginID() string { return m.Author + "/" + m.Name }

// Resource is what a plugin asks of its host.
type Resource struct {
	Memory     int64          `yaml:"memory" json:"memory"`
	Permission map[string]any `yaml:"permission" json:"permission,omitempty"`
}

// Plugins lists the yaml files of each kind of extension a package provides.
type Plugins struct {
	Tools           []string `yaml:"tools" json:"tools,omitempty"`
	Models          []string `yaml:"models" json:"models,omitempty"`
	Endpoints       []string `yaml:"endpoints" json:"endpoints,omitempty"`
	AgentStrategies []string `yaml:"agent_strategies" json:"agent_strategies,omitempty"`
	Datasources     []string `yaml:"datasources" json:"datasources,omitempty"`
	Triggers        []string `yaml:"triggers" json:"triggers,omitempty"`
}

// Meta says how to run the plugin.
type Meta struct {
	Version            string   `yaml:"version" json:"version"`
	Arch               []string `yaml:"arch" json:"arch"`
	Runner             Runner   `yaml:"runner" json:"runner"`
	MinimumDifyVersion string   `yaml:"minimum_dify_version" json:"minimum_dify_version,omitempty"`
}

// Runner languages.
const (
	RunnerPython = "python"
	RunnerBinary = "binary"
)

// Runner names the runtime and the entrypoint of the plugin's process.
type Runner struct {
	Language   string `yaml:"language" json:"language"`
	Version    string `yaml:"version" json:"version"`
	Entrypoint string `yaml:"entrypoint" json:"entrypoint"`
}

// ToolProvider is a provider yaml (Dify's ToolProviderDeclaration) with its tools.
type ToolProvider struct {
	Identity ProviderIdentity `yaml:"identity" json:"identity"`
	// Credentials is read from credentials_for_provider (a map keyed by name,
	// or a list) or credentials_schema; JSON calls it credentials_schema.
	Credentials []CredentialField `yaml:"-" json:"credentials_schema"`
	// OAuthSchema is the provider's OAuth forms, nil when it has no OAuth.
	OAuthSchema *OAuthSchema `yaml:"-" json:"oauth_schema"`
	Tools       []Tool       `yaml:"-" json:"tools"`
	// ToolFiles are the tool yaml paths the provider names.
	ToolFiles []string `yaml:"-" json:"-"`
}

// ProviderIdentity names a tool provider.
type ProviderIdentity struct {
	Author      string   `yaml:"author" json:"author"`
	Name        string   `yaml:"name" json:"name"`
	Label       I18n     `yaml:"label" json:"label"`
	Description I18n     `yaml:"description" json:"description"`
	Icon        string   `yaml:"icon" json:"icon"`
	IconDark    string   `yaml:"icon_dark" json:"icon_dark,omitempty"`
	Tags        []string `yaml:"tags" json:"tags"`
}

// OAuthSchema is a provider's OAuth forms (Dify's OAuthSchema): the client
// an admin registers, and the credentials the authorization yields.
type OAuthSchema struct {
	ClientSchema      []CredentialField `json:"client_schema"`
	CredentialsSchema []CredentialField `json:"credentials_schema"`
}

// Credential field types.
const (
	CredentialSecret  = "secret-input"
	CredentialText    = "text-input"
	CredentialSelect  = "select"
	CredentialBoolean = "boolean"
)

// CredentialField is one field of a provider's credential form.
type CredentialField struct {
	Name        string   `yaml:"name" json:"name"`
	Type        string   `yaml:"type" json:"type"`
	Required    bool     `yaml:"required" json:"required"`
	Default     any      `yaml:"default" json:"default"`
	Options     []Option `yaml:"options" json:"options,omitempty"`
	Label       I18n     `yaml:"label" json:"label"`
	Help        I18n     `yaml:"help" json:"help,omitempty"`
	URL         string   `yaml:"url" json:"url,omitempty"`
	Placeholder I18n     `yaml:"placeholder" json:"placeholder,omitempty"`
	Scope       string   `yaml:"scope" json:"scope,omitempty"`
}

// Option is one choice of a select field or parameter.
type Option struct {
	Value string `yaml:"value" json:"value"`
	Label I18n   `yaml:"label" json:"label"`
	Icon  string `yaml:"icon" json:"icon,omitempty"`
}

// Tool is a tool yaml (Dify's ToolDeclaration).
type Tool struct {
	Identity             ToolIdentity    `yaml:"identity" json:"identity"`
	Description          ToolDescription `yaml:"description" json:"description"`
	Parameters           []Parameter     `yaml:"parameters" json:"parameters"`
	OutputSchema         map[string]any  `yaml:"output_schema" json:"output_schema,omitempty"`
	HasRuntimeParameters bool            `yaml:"has_runtime_parameters" json:"has_runtime_parameters"`
}

// ToolIdentity names a tool.
type ToolIdentity struct {
	Name   string `yaml:"name" json:"name"`
	Author string `yaml:"author" json:"author"`
	Label  I18n   `yaml:"label" json:"label"`
	Icon   string `yaml:"icon" json:"icon,omitempty"`
}

// ToolDescription describes a tool to people and to the LLM.
type ToolDescription struct {
	Human I18n   `yaml:"human" json:"human"`
	LLM   string `yaml:"llm" json:"llm"`
}

// Parameter types.
const (
	ParamString        = "string"
	ParamNumber        = "number"
	ParamBoolean       = "boolean"
	ParamSelect        = "select"
	ParamSecret        = "secret-input"
	ParamFile          = "file"
	ParamFiles         = "files"
	ParamAppSelector   = "app-selector"
	ParamModelSelector = "model-selector"
	ParamAny           = "any"
	ParamDynamicSelect = "dynamic-select"
	ParamArray         = "array"
	ParamObject        = "object"
	ParamCheckbox      = "checkbox"
	ParamDate          = "date"
	ParamDateRange     = "date-range"
	ParamToolsSelector = "array[tools]"
)

// Parameter forms.
const (
	FormLLM    = "llm"
	FormForm   = "form"
	FormSchema = "schema"
)

// Parameter is one input of a tool (Dify's ToolParameter).
type Parameter struct {
	Name             string          `yaml:"name" json:"name"`
	Label            I18n            `yaml:"label" json:"label"`
	HumanDescription I18n            `yaml:"human_description" json:"human_description"`
	LLMDescription   string          `yaml:"llm_description" json:"llm_description,omitempty"`
	Type             string          `yaml:"type" json:"type"`
	Form             string          `yaml:"form" json:"form"`
	Required         bool            `yaml:"required" json:"required"`
	Default          any             `yaml:"default" json:"default"`
	Min              *float64        `yaml:"min" json:"min,omitempty"`
	Max              *float64        `yaml:"max" json:"max,omitempty"`
	Precision        *int            `yaml:"precision" json:"precision,omitempty"`
	Multiple         bool            `yaml:"multiple" json:"multiple,omitempty"`
	Options          []Option        `yaml:"options" json:"options"`
	Scope            string          `yaml:"scope" json:"scope,omitempty"`
	Placeholder      I18n            `yaml:"placeholder" json:"placeholder,omitempty"`
	AutoGenerate     map[string]any  `yaml:"auto_generate" json:"auto_generate,omitempty"`
	Template         map[string]any  `yaml:"template" json:"template,omitempty"`
	InputSchema      json.RawMessage `yaml:"-" json:"input_schema,omitempty"`
	// ShowOn shows the parameter only when other parameters have given
	// values ([{variable, value}]).
	ShowOn []map[string]any `yaml:"show_on" json:"show_on"`
}

// Categories of plugin, derived from what a package provides.
const (
	CategoryTool          = "tool"
	CategoryModel         = "model"
	CategoryDatasource    = "datasource"
	CategoryAgentStrategy = "agent-strategy"
	CategoryTrigger       = "trigger"
	CategoryExtension     = "extension"
)

// Category derives the plugin's category: tool > model > datasource >
// agent-strategy > trigger > extension.
func (m *Manifest) Category() string {
	switch {
	case len(m.Plugins.Tools) > 0:
		return CategoryTool
	case len(m.Plugins.Models) > 0 || m.Model != nil:
		return CategoryModel
	case len(m.Plugins.Datasources) > 0:
		return CategoryDatasource
	case len(m.Plugins.AgentStrategies) > 0:
		return CategoryAgentStrategy
	case len(m.Plugins.Triggers) > 0:
		return CategoryTrigger
	default:
		return CategoryExtension
	}
}
