package sdk

import (
	"fmt"
	"maps"

	"github.com/plugboard/plugboard"
)

// ModelSchema describes one model (Dify's AIModelEntity): the answer of
// CustomizableModel. It is the declaration type a model yaml decodes into.
type ModelSchema = plugboard.ModelDeclaration

// ParameterRule is one parameter of a ModelSchema. Setting only Name and
// UseTemplate takes the rest from Dify's template of that name.
type ParameterRule = plugboard.ParameterRule

// fillSchema returns the schema as Dify expects it: the request's model
// type and model name where it has none, customizable-model as where it
// comes from, [] and {} rather than null, and parameter rules completed
// from their templates (only what a rule leaves unset).
func fillSchema(schema ModelSchema, req ModelRequest) (ModelSchema, error) {
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
		var err error
		if rules[i], err = fillRule(r); err != nil {
			return schema, fmt.Errorf("parameter rule %s: %w", r.Name, err)
		}
	}
	schema.ParameterRules = rules
	return schema, nil
}

// fillRule completes a rule from its template, labelled with the
// template's label as Dify's Python SDK does (the daemon, reading a yaml,
// labels it with the rule's name instead).
func fillRule(r ParameterRule) (ParameterRule, error) {
	if t, ok := plugboard.ParameterTemplates[r.UseTemplate]; ok && r.Label.English() == "" {
		r.Label = maps.Clone(t.Label)
	}
	err := r.ApplyTemplate()
	return r, err
}
