package pkgfmt

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/plugboard/plugboard"
)

// ruleTypes are the types a model's parameter rule may have.
var ruleTypes = []string{plugboard.RuleFloat, plugboard.RuleInt, plugboard.RuleString, plugboard.RuleBoolean, plugboard.RuleText}

// modelFeatures are the features the SDK's ModelFeature knows; Dify's
// daemon takes any, the SDK refuses others when the plugin starts.
var modelFeatures = []string{
	plugboard.FeatureToolCall, plugboard.FeatureMultiToolCall, plugboard.FeatureAgentThought, plugboard.FeatureVision,
	plugboard.FeatureStreamToolCall, plugboard.FeatureDocument, plugboard.FeatureVideo, plugboard.FeatureAudio,
	plugboard.FeatureStructuredOutput, "polling",
}

// maxParameterRules is the most rules Dify's validator allows a model.
const maxParameterRules = 128

// parseModel decodes and validates one model yaml.
func parseModel(file string, files fileSet, w *findings) (*plugboard.ModelDeclaration, error) {
	data, _ := files.get(file)
	m := new(plugboard.ModelDeclaration)
	d, err := parseDoc(file, data, m, w)
	if err != nil {
		return nil, err
	}
	return m, checkModel(d, "", m)
}

// checkModel checks a model whose fields are at prefix in d ("" for a
// model yaml, "models[2]." for one written inline), fills its parameter
// rules from their templates and its defaults, and reads its pricing.
func checkModel(d *doc, prefix string, m *plugboard.ModelDeclaration) error {
	switch {
	case m.Model == "":
		return d.errorf(prefix+"model", "required")
	case m.ModelType == "":
		return d.errorf(prefix+"model_type", "required (one of %s)", strings.Join(plugboard.ModelTypes, ", "))
	case !slices.Contains(plugboard.ModelTypes, m.ModelType):
		return d.errorf(prefix+"model_type", "unknown model type %q (want one of %s)", m.ModelType, strings.Join(plugboard.ModelTypes, ", "))
	case m.FetchFrom != "" && !slices.Contains(configurateMethods, m.FetchFrom):
		return d.errorf(prefix+"fetch_from", "unknown configurate method %q (want predefined-model or customizable-model)", m.FetchFrom)
	}
	if m.FetchFrom == "" {
		m.FetchFrom = plugboard.ConfiguratePredefined
	}
	for i, f := range m.Features {
		if !slices.Contains(modelFeatures, f) {
			d.warnf(fmt.Sprintf("%sfeatures[%d]", prefix, i), "%q is not a feature Dify's SDK knows (%s); a Python plugin fails to start with it", f, strings.Join(modelFeatures, ", "))
		}
	}
	if m.ModelType == plugboard.ModelLLM {
		if mode, _ := m.ModelProperties["mode"].(string); mode != "chat" && mode != "completion" {
			d.warnf(prefix+"model_properties.mode", "an LLM's mode should be chat or completion; Dify's app builder needs it")
		}
	}
	if err := checkRules(d, prefix+"parameter_rules", m); err != nil {
		return err
	}
	return readPricing(d, prefix+"pricing", m)
}

// checkRules fills each parameter rule from its template and checks it.
func checkRules(d *doc, field string, m *plugboard.ModelDeclaration) error {
	if m.ParameterRules == nil {
		m.ParameterRules = []plugboard.ParameterRule{}
	}
	if len(m.ParameterRules) > maxParameterRules {
		d.warnf(field, "%d parameter rules; Dify's validator allows %d", len(m.ParameterRules), maxParameterRules)
	}
	seen := map[string]bool{}
	for i := range m.ParameterRules {
		r, rf := &m.ParameterRules[i], fmt.Sprintf("%s[%d]", field, i)
		if err := checkRule(d, rf, r); err != nil {
			return err
		}
		if seen[r.Name] {
			d.warnf(rf+".name", "the parameter %q is declared twice; Dify keeps both", r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

// checkRule fills one rule at field from its template and checks it.
func checkRule(d *doc, field string, r *plugboard.ParameterRule) error {
	if r.Name == "" {
		return d.errorf(field+".name", "required")
	}
	if err := r.ApplyTemplate(); err != nil {
		return d.errorf(field+".use_template", "unknown template %q (want one of %s)", r.UseTemplate, templateNames())
	}
	switch {
	case r.Type == "":
		return d.errorf(field+".type", "required when there is no use_template (one of %s)", strings.Join(ruleTypes, ", "))
	case !slices.Contains(ruleTypes, r.Type):
		return d.errorf(field+".type", "unknown parameter type %q (want one of %s)", r.Type, strings.Join(ruleTypes, ", "))
	}
	if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		d.warnf(field+".min", "min %v is greater than max %v: no value fits", *r.Min, *r.Max)
	} else if n, ok := number(r.Default); ok && (r.Min != nil && n < *r.Min || r.Max != nil && n > *r.Max) {
		d.warnf(field+".default", "default %v is outside min and max", r.Default)
	}
	if s, ok := r.Default.(string); ok && s != "" && len(r.Options) > 0 && !slices.Contains(r.Options, s) {
		d.warnf(field+".default", "default %q is not one of the options %q", s, r.Options)
	}
	return nil
}

// number returns v as a float when it is a number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

// templateNames lists the parameter templates, sorted.
func templateNames() string {
	names := make([]string, 0, len(plugboard.ParameterTemplates))
	for name := range plugboard.ParameterTemplates {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// readPricing reads a model's pricing as written: input, output and unit
// are decimals (Dify's shopspring decimals, written as JSON strings without
// trailing zeros), currency a text; all but output are required.
func readPricing(d *doc, field string, m *plugboard.ModelDeclaration) error {
	if m.Pricing == nil {
		return nil
	}
	pr := m.Pricing
	for _, f := range []struct {
		key      string
		v        *string
		required bool
	}{{"input", &pr.Input, true}, {"unit", &pr.Unit, true}} {
		s, err := decimalAt(d, field+"."+f.key)
		if err != nil {
			return err
		}
		if s == "" {
			return d.errorf(field+"."+f.key, "required (a decimal, like '0.001')")
		}
		*f.v = s
	}
	out, err := decimalAt(d, field+".output")
	if err != nil {
		return err
	}
	pr.Output = nil
	if out != "" {
		pr.Output = &out
	}
	if pr.Currency == "" {
		return d.errorf(field+".currency", "required (like USD)")
	}
	return nil
}

// decimalAt reads the decimal written at field, normalized as Dify writes
// it ("" when the field is missing or null).
func decimalAt(d *doc, field string) (string, error) {
	text, ok := d.scalar(field)
	if !ok {
		return "", nil
	}
	s, ok := normalizeDecimal(text)
	if !ok {
		return "", d.errorf(field, "%q is not a decimal number", text)
	}
	return s, nil
}

// normalizeDecimal writes a decimal text the way Dify's shopspring
// decimals are written in JSON: exact, without an exponent and without
// trailing zeros ("2.00" is "2", "1e-6" is "0.000001").
func normalizeDecimal(text string) (string, bool) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(text))
	if !ok || strings.ContainsAny(text, "/") {
		return "", false
	}
	ten := big.NewInt(10)
	scaled := new(big.Rat).Set(r)
	digits := 0
	for !scaled.IsInt() {
		if digits > 1000 {
			return "", false
		}
		scaled.Mul(scaled, new(big.Rat).SetInt(ten))
		digits++
	}
	return r.FloatString(digits), true
}
