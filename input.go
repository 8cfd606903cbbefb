package plugboard

// Input is one input of an agent strategy, a datasource or a trigger (Dify's
// AgentStrategyParameter, DatasourceParameter and TriggerParameter share
// these fields).
type Input struct {
	Name         string         `yaml:"name" json:"name"`
	Label        I18n           `yaml:"label" json:"label"`
	Help         I18n           `yaml:"help" json:"help,omitempty"`
	Description  I18n           `yaml:"description" json:"description,omitempty"`
	Type         string         `yaml:"type" json:"type"`
	Scope        string         `yaml:"scope" json:"scope,omitempty"`
	Required     bool           `yaml:"required" json:"required"`
	Multiple     bool           `yaml:"multiple" json:"multiple,omitempty"`
	Default      any            `yaml:"default" json:"default"`
	Min          *float64       `yaml:"min" json:"min,omitempty"`
	Max          *float64       `yaml:"max" json:"max,omitempty"`
	Precision    *int           `yaml:"precision" json:"precision,omitempty"`
	Options      []Option       `yaml:"options" json:"options"`
	AutoGenerate map[string]any `yaml:"auto_generate" json:"auto_generate,omitempty"`
	Template     map[string]any `yaml:"template" json:"template,omitempty"`
	// ResetOnChange names the inputs cleared when this one changes (an
	// agent strategy's).
	ResetOnChange []string `yaml:"reset_on_change" json:"reset_on_change,omitempty"`
}
