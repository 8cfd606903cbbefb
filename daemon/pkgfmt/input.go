package pkgfmt

import (
	"fmt"
	"slices"
	"strings"
)

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

// Input types each kind of declaration may use (Dify's lists).
var (
	strategyInputTypes = []string{
		ParamString, ParamNumber, ParamBoolean, ParamSelect, ParamSecret, ParamFile, ParamFiles,
		ParamAppSelector, ParamModelSelector, ParamToolsSelector, ParamAny, ParamObject, ParamArray,
	}
	datasourceInputTypes = []string{ParamString, ParamNumber, ParamBoolean, ParamSelect, ParamSecret, ParamFile, ParamFiles}
	triggerInputTypes    = []string{
		ParamString, ParamNumber, ParamBoolean, ParamSelect, ParamFile, ParamFiles,
		ParamModelSelector, ParamAppSelector, ParamObject, ParamArray, ParamDynamicSelect,
	}
)

// checkInputs checks the inputs decoded from field (like "parameters"):
// what Dify's SDK refuses is refused; a type outside Dify's list, a name
// declared twice and a select's odd options are warnings.
func checkInputs(d *doc, field string, in []Input, types []string) error {
	seen := map[string]bool{}
	for i := range in {
		f, p := fmt.Sprintf("%s[%d]", field, i), &in[i]
		switch {
		case p.Name == "":
			return d.errorf(f+".name", "required")
		case p.Type == "":
			return d.errorf(f+".type", "required")
		}
		if err := requireI18n(d, f+".label", p.Label); err != nil {
			return err
		}
		if !slices.Contains(types, p.Type) {
			d.warnf(f+".type", "%q is not one of Dify's types here (%s)", p.Type, strings.Join(types, ", "))
		}
		if seen[p.Name] {
			d.warnf(f+".name", "the parameter %q is declared twice", p.Name)
		}
		seen[p.Name] = true
		if p.Type == ParamSelect {
			checkOptions(d, f, p.Options, p.Default)
		}
		if p.Options == nil {
			p.Options = []Option{}
		}
	}
	return nil
}

// orEmptyInputs returns in, or an empty list for nil.
func orEmptyInputs(in []Input) []Input {
	if in == nil {
		return []Input{}
	}
	return in
}
