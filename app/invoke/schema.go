package invoke

import (
	"cmp"
	"strings"

	"github.com/plugboard/plugboard"
)

// IsLLMParam reports whether the caller of a tool — a model, an outside
// agent — gives the parameter (form llm); the others (form form) are set
// by whoever configures the tool.
func IsLLMParam(p plugboard.Parameter) bool { return p.Form == "" || p.Form == plugboard.FormLLM }

// ToolDescription is what a model reads of a tool: its description for
// models, else its human one.
func ToolDescription(decl plugboard.Tool) string {
	return cmp.Or(decl.Description.LLM, decl.Description.Human.English())
}

// InputSchema is the JSON Schema of the arguments a caller gives a tool:
// its llm parameters with their JSON types (Dify's as_normal_type), model
// descriptions, select options as enums, number ranges, defaults and the
// required ones. With files, file parameters are asked for as URLs (an
// outside agent can pass a link); without, they are left out (a model
// cannot send a file).
func InputSchema(decl plugboard.Tool, files bool) map[string]any {
	props, required := map[string]any{}, []string{}
	for _, p := range decl.Parameters {
		if !IsLLMParam(p) || (!files && IsFileParam(p)) {
			continue
		}
		props[p.Name] = paramSchema(p)
		if p.Required {
			required = append(required, p.Name)
		}
	}
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// paramSchema is one parameter's JSON Schema.
func paramSchema(p plugboard.Parameter) map[string]any {
	s := map[string]any{}
	switch p.Type {
	case plugboard.ParamNumber:
		s["type"] = "number"
		if p.Min != nil {
			s["minimum"] = *p.Min
		}
		if p.Max != nil {
			s["maximum"] = *p.Max
		}
	case plugboard.ParamBoolean, plugboard.ParamCheckbox:
		s["type"] = "boolean"
	case plugboard.ParamSelect:
		s["type"] = "string"
		var enum []string
		for _, o := range p.Options {
			enum = append(enum, o.Value)
		}
		s["enum"] = enum
	case plugboard.ParamFile:
		s["type"], s["format"] = "string", "uri"
	case plugboard.ParamFiles:
		s["type"], s["items"] = "array", map[string]any{"type": "string", "format": "uri"}
	case plugboard.ParamArray:
		s["type"] = "array"
	case plugboard.ParamObject:
		s["type"] = "object"
	default:
		s["type"] = "string"
	}
	d := cmp.Or(p.LLMDescription, p.HumanDescription.English())
	if IsFileParam(p) {
		d = strings.TrimSpace(d + " (the URL of the file, http or https)")
	}
	if d != "" {
		s["description"] = d
	}
	if p.Default != nil && p.Default != "" {
		s["default"] = p.Default
	}
	return s
}
