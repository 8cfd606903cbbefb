package plugboard

import (
	"encoding/json"
	"slices"
)

// Model types (Dify's ModelType): what a model does, and the value of
// supported_model_types and model_type.
const (
	ModelLLM                 = "llm"
	ModelTextEmbedding       = "text-embedding"
	ModelRerank              = "rerank"
	ModelTTS                 = "tts"
	ModelSpeech2Text         = "speech2text"
	ModelModeration          = "moderation"
	ModelText2Img            = "text2img"
	ModelMultimodalEmbedding = "multimodal-embedding"
	ModelMultimodalRerank    = "multimodal-rerank"
)

// ModelTypes are the model types Dify's daemon accepts, in its order.
var ModelTypes = []string{
	ModelLLM, ModelTextEmbedding, ModelRerank, ModelSpeech2Text, ModelModeration,
	ModelTTS, ModelText2Img, ModelMultimodalEmbedding, ModelMultimodalRerank,
}

// ModelFileKeys are the keys of a provider's models mapping Dify reads (the
// model types spelt with underscores), in its order; other keys are ignored.
var ModelFileKeys = []string{"llm", "text_embedding", "tts", "speech2text", "moderation", "rerank"}

// Configurate methods: how a provider's models come to be.
const (
	// ConfiguratePredefined means the provider ships model yamls.
	ConfiguratePredefined = "predefined-model"
	// ConfigurateCustomizable means a user names a model and gives its
	// credentials; the plugin describes it at run time.
	ConfigurateCustomizable = "customizable-model"
)

// Model credential form types (Dify's ModelProviderFormType).
const (
	FormTextInput   = "text-input"
	FormSecretInput = "secret-input"
	FormSelect      = "select"
	FormRadio       = "radio"
	FormSwitch      = "switch"
)

// Model parameter-rule types (Dify's ModelParameterType).
const (
	RuleFloat   = "float"
	RuleInt     = "int"
	RuleString  = "string"
	RuleBoolean = "boolean"
	RuleText    = "text"
)

// ModelProvider is a model provider yaml (Dify's ModelProviderDeclaration)
// with its predefined models. Its JSON is the shape Dify's daemon returns:
// absent optional fields are null, models is [] when there are none, and
// extra is dropped.
type ModelProvider struct {
	Provider      string `yaml:"provider" json:"provider"`
	Label         I18n   `yaml:"label" json:"label"`
	Description   I18n   `yaml:"description" json:"description"`
	IconSmall     I18n   `yaml:"icon_small" json:"icon_small"`
	IconLarge     I18n   `yaml:"icon_large" json:"icon_large"`
	IconSmallDark I18n   `yaml:"icon_small_dark" json:"icon_small_dark"`
	IconLargeDark I18n   `yaml:"icon_large_dark" json:"icon_large_dark"`
	// Background is a colour behind the icon; "" is written as null.
	Background string     `yaml:"background" json:"background"`
	Help       *ModelHelp `yaml:"help" json:"help"`
	// SupportedModelTypes and ConfigurateMethods hold Model… and
	// Configurate… values.
	SupportedModelTypes      []string                  `yaml:"supported_model_types" json:"supported_model_types"`
	ConfigurateMethods       []string                  `yaml:"configurate_methods" json:"configurate_methods"`
	ProviderCredentialSchema *ProviderCredentialSchema `yaml:"provider_credential_schema" json:"provider_credential_schema"`
	ModelCredentialSchema    *ModelCredentialSchema    `yaml:"model_credential_schema" json:"model_credential_schema"`
	// Position orders the models of each type, keyed like ModelFileKeys
	// (llm, text_embedding …), read from the position files. It is empty
	// but not nil (written {}) when the provider has a models mapping, nil
	// (left out) when it has none, as in Dify.
	Position map[string][]string `yaml:"-" json:"position,omitempty"`
	// Models are the predefined models, read from the files the models
	// mapping's globs match (or given inline as a list).
	Models []ModelDeclaration `yaml:"-" json:"models"`
	// ModelFiles is the models mapping: the globs and position file of each
	// model type, keyed like ModelFileKeys.
	ModelFiles map[string]ModelFileSet `yaml:"-" json:"-"`
	// Extra is what the Python SDK needs to load the provider; Dify's daemon
	// drops it from the declaration, and so does the JSON here.
	Extra ModelProviderExtra `yaml:"extra" json:"-"`
}

// ModelFileSet is one model type's entry in a provider's models mapping.
type ModelFileSet struct {
	// Predefined are globs (path.Match, * does not cross /) of model yamls.
	Predefined []string `yaml:"predefined" json:"predefined"`
	// Position is a yaml list of model names ordering them, "" for none.
	Position string `yaml:"position" json:"position,omitempty"`
}

// ModelProviderExtra is a provider's extra section.
type ModelProviderExtra struct {
	Python ModelPythonExtra `yaml:"python" json:"python"`
}

// ModelPythonExtra names the Python sources of a provider and its models.
type ModelPythonExtra struct {
	ProviderSource string   `yaml:"provider_source" json:"provider_source"`
	ModelSources   []string `yaml:"model_sources" json:"model_sources"`
}

// ModelHelp is a provider's help link.
type ModelHelp struct {
	Title I18n `yaml:"title" json:"title"`
	URL   I18n `yaml:"url" json:"url"`
}

// ProviderCredentialSchema is the credential form of a provider (its
// predefined models share the credentials).
type ProviderCredentialSchema struct {
	CredentialFormSchemas []CredentialFormSchema `yaml:"credential_form_schemas" json:"credential_form_schemas"`
}

// ModelCredentialSchema is the credential form of a customizable model: the
// model-name field and the other fields.
type ModelCredentialSchema struct {
	Model                 ModelNameField         `yaml:"model" json:"model"`
	CredentialFormSchemas []CredentialFormSchema `yaml:"credential_form_schemas" json:"credential_form_schemas"`
}

// ModelNameField labels the model-name field of a customizable model's form.
type ModelNameField struct {
	Label       I18n `yaml:"label" json:"label"`
	Placeholder I18n `yaml:"placeholder" json:"placeholder"`
}

// CredentialFormSchema is one field of a model credential form (Dify's
// ModelProviderCredentialFormSchema).
type CredentialFormSchema struct {
	Variable string `yaml:"variable" json:"variable"`
	Label    I18n   `yaml:"label" json:"label"`
	// Type is one of the Form… constants.
	Type     string `yaml:"type" json:"type"`
	Required bool   `yaml:"required" json:"required"`
	// Default is a string in Dify (nil is null).
	Default     *string      `yaml:"default" json:"default"`
	Options     []FormOption `yaml:"options" json:"options"`
	Placeholder I18n         `yaml:"placeholder" json:"placeholder"`
	MaxLength   int          `yaml:"max_length" json:"max_length"`
	// ShowOn shows the field only when other fields have the given values;
	// the variable __model_type tests the model's type.
	ShowOn []ShowOn `yaml:"show_on" json:"show_on"`
	// Help is kept as written: official plugins give an i18n text or a
	// mapping of title and text.
	Help any    `yaml:"help" json:"help,omitempty"`
	URL  string `yaml:"url" json:"url,omitempty"`
}

// FormOption is one choice of a select or radio credential field.
type FormOption struct {
	Label  I18n     `yaml:"label" json:"label"`
	Value  string   `yaml:"value" json:"value"`
	ShowOn []ShowOn `yaml:"show_on" json:"show_on"`
}

// ShowOn is a condition on another credential field's value.
type ShowOn struct {
	Variable string `yaml:"variable" json:"variable"`
	Value    string `yaml:"value" json:"value"`
}

// ModelDeclaration is one model yaml (Dify's ModelDeclaration, the SDK's
// AIModelEntity).
type ModelDeclaration struct {
	Model string `yaml:"model" json:"model"`
	// Label is written with en_US set to Model when it has none.
	Label I18n `yaml:"label" json:"label"`
	// ModelType is one of the Model… constants.
	ModelType string   `yaml:"model_type" json:"model_type"`
	Features  []string `yaml:"features" json:"features"`
	// FetchFrom is a Configurate… value, predefined-model when empty.
	FetchFrom string `yaml:"fetch_from" json:"fetch_from"`
	// ModelProperties holds mode, context_size, voices … (free-form).
	ModelProperties map[string]any  `yaml:"model_properties" json:"model_properties"`
	Deprecated      bool            `yaml:"deprecated" json:"deprecated"`
	ParameterRules  []ParameterRule `yaml:"parameter_rules" json:"parameter_rules"`
	Pricing         *Pricing        `yaml:"pricing" json:"pricing"`
}

// Features of a model (the SDK's ModelFeature; Dify's daemon takes any).
const (
	FeatureToolCall         = "tool-call"
	FeatureMultiToolCall    = "multi-tool-call"
	FeatureAgentThought     = "agent-thought"
	FeatureVision           = "vision"
	FeatureStreamToolCall   = "stream-tool-call"
	FeatureDocument         = "document"
	FeatureVideo            = "video"
	FeatureAudio            = "audio"
	FeatureStructuredOutput = "structured-output"
)

// ParameterRule is one parameter a model takes (Dify's ModelParameterRule).
// Decoding fills what the yaml leaves unset from the template UseTemplate
// names; the pointers are nil (null) when neither says.
type ParameterRule struct {
	Name string `yaml:"name" json:"name"`
	// UseTemplate names a template (temperature, top_p, max_tokens …); ""
	// is written as null.
	UseTemplate string `yaml:"use_template" json:"use_template"`
	Label       I18n   `yaml:"label" json:"label"`
	// Type is one of the Rule… constants; "" is written as null.
	Type      string   `yaml:"type" json:"type"`
	Help      I18n     `yaml:"help" json:"help"`
	Required  bool     `yaml:"required" json:"required"`
	Default   any      `yaml:"default" json:"default"`
	Min       *float64 `yaml:"min" json:"min"`
	Max       *float64 `yaml:"max" json:"max"`
	Precision *int     `yaml:"precision" json:"precision"`
	Options   []string `yaml:"options" json:"options"`
}

// Pricing is what a model costs: Input (and Output) per Unit tokens, in
// Currency. The amounts are decimal strings, written as JSON strings the way
// Dify's daemon writes its decimals ("2.00" is "2").
type Pricing struct {
	Input    string  `yaml:"input" json:"input"`
	Output   *string `yaml:"output" json:"output"`
	Unit     string  `yaml:"unit" json:"unit"`
	Currency string  `yaml:"currency" json:"currency"`
}

// ModelsOf returns the provider's predefined models of one type.
func (p *ModelProvider) ModelsOf(modelType string) []ModelDeclaration {
	var out []ModelDeclaration
	for _, m := range p.Models {
		if m.ModelType == modelType {
			out = append(out, m)
		}
	}
	return out
}

// Find returns the predefined model of the given type and name, or nil.
func (p *ModelProvider) Find(modelType, model string) *ModelDeclaration {
	for i := range p.Models {
		if p.Models[i].ModelType == modelType && p.Models[i].Model == model {
			return &p.Models[i]
		}
	}
	return nil
}

// FillDefaults applies Dify's defaults to the provider: [] for models and
// for the credential forms' fields, options and show_on, and
// predefined-model as the models' fetch_from. It writes new slices rather
// than into the old ones, so a shallow copy can be filled (as marshalling
// does) without touching the original.
func (p *ModelProvider) FillDefaults() {
	p.Models = slices.Clone(p.Models)
	if p.Models == nil {
		p.Models = []ModelDeclaration{}
	}
	for i := range p.Models {
		p.Models[i].fillDefaults()
	}
	if s := p.ProviderCredentialSchema; s != nil {
		p.ProviderCredentialSchema = &ProviderCredentialSchema{CredentialFormSchemas: fillForms(s.CredentialFormSchemas)}
	}
	if s := p.ModelCredentialSchema; s != nil {
		p.ModelCredentialSchema = &ModelCredentialSchema{Model: s.Model, CredentialFormSchemas: fillForms(s.CredentialFormSchemas)}
	}
}

// fillForms returns the credential fields with [] for options and show_on.
func fillForms(fs []CredentialFormSchema) []CredentialFormSchema {
	fs = slices.Clone(fs)
	if fs == nil {
		return []CredentialFormSchema{}
	}
	for i := range fs {
		fs[i].Options = slices.Clone(fs[i].Options)
		if fs[i].Options == nil {
			fs[i].Options = []FormOption{}
		}
		if fs[i].ShowOn == nil {
			fs[i].ShowOn = []ShowOn{}
		}
		for j := range fs[i].Options {
			if fs[i].Options[j].ShowOn == nil {
				fs[i].Options[j].ShowOn = []ShowOn{}
			}
		}
	}
	return fs
}

// fillDefaults gives a model predefined-model as fetch_from, [] for its
// parameter rules and their options.
func (m *ModelDeclaration) fillDefaults() {
	if m.FetchFrom == "" {
		m.FetchFrom = ConfiguratePredefined
	}
	m.ParameterRules = slices.Clone(m.ParameterRules)
	if m.ParameterRules == nil {
		m.ParameterRules = []ParameterRule{}
	}
	for i := range m.ParameterRules {
		if m.ParameterRules[i].Options == nil {
			m.ParameterRules[i].Options = []string{}
		}
	}
}

// MarshalJSON writes the provider in Dify's shape and member order:
// background null when empty, position {} when empty but not nil, and
// models [] when there are none.
func (p ModelProvider) MarshalJSON() ([]byte, error) {
	c := providerJSON{
		Provider: p.Provider, Label: p.Label, Description: p.Description,
		IconSmall: p.IconSmall, IconLarge: p.IconLarge, IconSmallDark: p.IconSmallDark, IconLargeDark: p.IconLargeDark,
		Background: nullString(p.Background), Help: p.Help,
		SupportedModelTypes: p.SupportedModelTypes, ConfigurateMethods: p.ConfigurateMethods,
		ProviderCredentialSchema: p.ProviderCredentialSchema, ModelCredentialSchema: p.ModelCredentialSchema,
		Models: p.Models,
	}
	if p.Position != nil {
		c.Position = &p.Position
	}
	if c.Models == nil {
		c.Models = []ModelDeclaration{}
	}
	return json.Marshal(c)
}

// providerJSON is a provider's JSON, in the member order of Dify's
// ModelProviderDeclaration.
type providerJSON struct {
	Provider                 string                    `json:"provider"`
	Label                    I18n                      `json:"label"`
	Description              I18n                      `json:"description"`
	IconSmall                I18n                      `json:"icon_small"`
	IconLarge                I18n                      `json:"icon_large"`
	IconSmallDark            I18n                      `json:"icon_small_dark"`
	IconLargeDark            I18n                      `json:"icon_large_dark"`
	Background               *string                   `json:"background"`
	Help                     *ModelHelp                `json:"help"`
	SupportedModelTypes      []string                  `json:"supported_model_types"`
	ConfigurateMethods       []string                  `json:"configurate_methods"`
	ProviderCredentialSchema *ProviderCredentialSchema `json:"provider_credential_schema"`
	ModelCredentialSchema    *ModelCredentialSchema    `json:"model_credential_schema"`
	Position                 *map[string][]string      `json:"position,omitempty"`
	Models                   []ModelDeclaration        `json:"models"`
}

// UnmarshalJSON reads a provider (a stored declaration, or a remote
// plugin's) and fills in Dify's defaults.
func (p *ModelProvider) UnmarshalJSON(data []byte) error {
	type plain ModelProvider
	c := struct {
		*plain
		Background *string `json:"background"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	if c.Background != nil {
		p.Background = *c.Background
	}
	p.FillDefaults()
	return nil
}

// MarshalJSON writes the model in Dify's shape: label.en_US is the model's
// name when it has none, fetch_from predefined-model when empty, and
// parameter_rules [] when there are none.
func (m ModelDeclaration) MarshalJSON() ([]byte, error) {
	type plain ModelDeclaration
	c := plain(m)
	if c.Label.English() == "" {
		l := make(I18n, len(c.Label)+1)
		for k, v := range c.Label {
			l[k] = v
		}
		l["en_US"] = c.Model
		c.Label = l
	}
	if c.FetchFrom == "" {
		c.FetchFrom = ConfiguratePredefined
	}
	if c.ParameterRules == nil {
		c.ParameterRules = []ParameterRule{}
	}
	return json.Marshal(c)
}

// UnmarshalJSON reads a model and fills in Dify's defaults.
func (m *ModelDeclaration) UnmarshalJSON(data []byte) error {
	type plain ModelDeclaration
	if err := json.Unmarshal(data, (*plain)(m)); err != nil {
		return err
	}
	m.fillDefaults()
	return nil
}

// MarshalJSON writes the rule in Dify's shape and member order:
// use_template and type null when empty, options [] when there are none.
func (r ParameterRule) MarshalJSON() ([]byte, error) {
	c := ruleJSON{
		Name: r.Name, UseTemplate: nullString(r.UseTemplate), Label: r.Label, Type: nullString(r.Type),
		Help: r.Help, Required: r.Required, Default: r.Default,
		Min: r.Min, Max: r.Max, Precision: r.Precision, Options: r.Options,
	}
	if c.Options == nil {
		c.Options = []string{}
	}
	return json.Marshal(c)
}

// ruleJSON is a rule's JSON, in the member order of Dify's
// ModelParameterRule.
type ruleJSON struct {
	Name        string   `json:"name"`
	UseTemplate *string  `json:"use_template"`
	Label       I18n     `json:"label"`
	Type        *string  `json:"type"`
	Help        I18n     `json:"help"`
	Required    bool     `json:"required"`
	Default     any      `json:"default"`
	Min         *float64 `json:"min"`
	Max         *float64 `json:"max"`
	Precision   *int     `json:"precision"`
	Options     []string `json:"options"`
}

// UnmarshalJSON reads a rule, null use_template and type as "".
func (r *ParameterRule) UnmarshalJSON(data []byte) error {
	type plain ParameterRule
	c := struct {
		*plain
		UseTemplate *string `json:"use_template"`
		Type        *string `json:"type"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	if c.UseTemplate != nil {
		r.UseTemplate = *c.UseTemplate
	}
	if c.Type != nil {
		r.Type = *c.Type
	}
	if r.Options == nil {
		r.Options = []string{}
	}
	return nil
}

// nullString is nil for "", so that JSON writes null as Dify's pointers do.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
