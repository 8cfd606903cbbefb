package sdk

import (
	"maps"

	"github.com/plugboard/plugboard"
)

// ModelSchema describes one model (Dify's AIModelEntity): the answer of
// CustomizableModel. It is the declaration type a model yaml decodes into.
type ModelSchema = plugboard.ModelDeclaration

// ParameterRule is one parameter of a ModelSchema. Setting only Name and
// UseTemplate takes the rest from Dify's template of that name.
type ParameterRule = plugboard.ParameterRule

// ruleTemplate is one of Dify's parameter-rule templates.
type ruleTemplate struct {
	label, typ string
	def        any
	min, max   *float64
	precision  *int
	options    []string
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// ruleTemplates are Dify's parameter-rule templates by use_template, with
// the labels the Python SDK gives them.
var ruleTemplates = map[string]ruleTemplate{
	"temperature":       {"Temperature", plugboard.RuleFloat, 0.0, ptr(0.0), ptr(1.0), ptr(2), nil},
	"top_p":             {"Top P", plugboard.RuleFloat, 1.0, ptr(0.0), ptr(1.0), ptr(2), nil},
	"top_k":             {"Top K", plugboard.RuleInt, 50, ptr(1.0), ptr(100.0), ptr(0), nil},
	"presence_penalty":  {"Presence Penalty", plugboard.RuleFloat, 0.0, ptr(0.0), ptr(1.0), ptr(2), nil},
	"frequency_penalty": {"Frequency Penalty", plugboard.RuleFloat, 0.0, ptr(0.0), ptr(1.0), ptr(2), nil},
	"max_tokens":        {"Max Tokens", plugboard.RuleInt, 64, ptr(1.0), ptr(2048.0), ptr(0), nil},
	"response_format":   {"Response Format", plugboard.RuleString, nil, nil, nil, nil, []string{"JSON", "XML"}},
	"json_schema":       {"JSON Schema", plugboard.RuleString, nil, nil, nil, nil, nil},
}

// fillSchema returns the schema as Dify expects it: the request's model
// type and model name where it has none, customizable-model as where it
// comes from, [] and {} rather than null, and parameter rules completed
// from their templates (only what a rule leaves unset).
func fillSchema(schema ModelSchema, req ModelRequest) ModelSchema {
	if schema.Model == "" {
		schema.Model = req.Model
	}
	if schema.ModelType == "" {
		schema.ModelType = req.ModelType
	}
	if schema.FetchFrom == "" {
		schema.FetchFrom = plugboard.ConfigurateCustomizable
	}
	if schema.Label.English() == "" {
		schema.Label = maps.Clone(schema.Label)
		if schema.Label == nil {
			schema.Label = plugboard.I18n{}
		}
		schema.Label["en_US"] = schema.Model
	}
	schema.Features = orEmpty(schema.Features)
	schema.ModelProperties = orEmptyMap(schema.ModelProperties)
	rules := make([]ParameterRule, len(schema.ParameterRules))
	for i, r := range schema.ParameterRules {
		rules[i] = fillRule(r)
	}
	schema.ParameterRules = rules
	return schema
}

// fillRule completes a rule from its template.
func fillRule(r ParameterRule) ParameterRule {
	t, ok := ruleTemplates[r.UseTemplate]
	if !ok {
		t = ruleTemplate{label: r.Name}
	}
	if r.Label.English() == "" {
		r.Label = plugboard.I18n{"en_US": t.label}
	}
	if r.Type == "" {
		r.Type = t.typ
	}
	if r.Default == nil {
		r.Default = t.def
	}
	if r.Min == nil {
		r.Min = t.min
	}
	if r.Max == nil {
		r.Max = t.max
	}
	if r.Precision == nil {
		r.Precision = t.precision
	}
	if r.Options == nil {
		r.Options = orEmpty(t.options)
	}
	return r
}
