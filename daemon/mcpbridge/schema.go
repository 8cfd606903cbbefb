package mcpbridge

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/plugboard/plugboard"
)

// schema is the part of a tool's JSON Schema input the declaration is made of.
type schema struct {
	Properties map[string]property `json:"properties"`
	Required   []string            `json:"required"`
}

type property struct {
	Type        any      `json:"type"` // a name or a list of names
	Description string   `json:"description"`
	Title       string   `json:"title"`
	Enum        []any    `json:"enum"`
	Default     any      `json:"default"`
	Minimum     *float64 `json:"minimum"`
	Maximum     *float64 `json:"maximum"`
}

// typeName is the first type the property names other than "null".
func (p property) typeName() string {
	switch t := p.Type.(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if s, ok := v.(string); ok && s != "null" {
				return s
			}
		}
	}
	return ""
}

// parseSchema reads a tool's input schema (whatever JSON value the SDK decoded).
func parseSchema(in any) schema {
	var s schema
	if raw, err := json.Marshal(in); err == nil {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// Declarations turns an MCP server's tools into a tool provider's tools:
// each property of the input schema a parameter of form llm (strings,
// numbers and integers, booleans, enums as selects; arrays and objects as
// their JSON text), with its requiredness, description, bounds and default.
func Declarations(tools []*mcp.Tool) []plugboard.Tool {
	out := make([]plugboard.Tool, 0, len(tools))
	for _, t := range tools {
		label := t.Title
		if label == "" && t.Annotations != nil {
			label = t.Annotations.Title
		}
		if label == "" {
			label = t.Name
		}
		decl := plugboard.Tool{
			Identity:    plugboard.ToolIdentity{Name: t.Name, Author: "mcp", Label: plugboard.I18n{"en_US": label}},
			Description: plugboard.ToolDescription{Human: plugboard.I18n{"en_US": t.Description}, LLM: t.Description},
			Parameters:  []plugboard.Parameter{},
		}
		s := parseSchema(t.InputSchema)
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool { // required first, then by name
			if required[names[i]] != required[names[j]] {
				return required[names[i]]
			}
			return names[i] < names[j]
		})
		for _, n := range names {
			decl.Parameters = append(decl.Parameters, parameter(n, s.Properties[n], required[n]))
		}
		out = append(out, decl)
	}
	return out
}

func parameter(name string, p property, required bool) plugboard.Parameter {
	label := p.Title
	if label == "" {
		label = name
	}
	par := plugboard.Parameter{
		Name: name, Label: plugboard.I18n{"en_US": label},
		HumanDescription: plugboard.I18n{"en_US": p.Description}, LLMDescription: p.Description,
		Form: plugboard.FormLLM, Required: required, Default: p.Default,
		Min: p.Minimum, Max: p.Maximum, Options: []plugboard.Option{},
	}
	switch typ := p.typeName(); {
	case len(p.Enum) > 0:
		par.Type = plugboard.ParamSelect
		for _, v := range p.Enum {
			s := jsonText(v)
			par.Options = append(par.Options, plugboard.Option{Value: s, Label: plugboard.I18n{"en_US": s}})
		}
	case typ == "number" || typ == "integer":
		par.Type = plugboard.ParamNumber
		if typ == "integer" {
			zero := 0
			par.Precision = &zero
		}
	case typ == "boolean":
		par.Type = plugboard.ParamBoolean
	case typ == "array" || typ == "object":
		par.Type = plugboard.ParamString
		par.LLMDescription = strings.TrimSpace(p.Description + " (JSON " + typ + ")")
	default:
		par.Type = plugboard.ParamString
	}
	return par
}

// jsonText is a string as it is, anything else as its JSON.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// arguments turns a tool's parameters into the MCP call's arguments: a
// string given for an array or object property is decoded from its JSON,
// an enum's option back into the enum's value.
func arguments(params map[string]any, s schema) map[string]any {
	args := make(map[string]any, len(params))
	for k, v := range params {
		p, known := s.Properties[k]
		if !known {
			args[k] = v
			continue
		}
		if str, ok := v.(string); ok {
			if len(p.Enum) > 0 {
				for _, e := range p.Enum {
					if jsonText(e) == str {
						v = e
					}
				}
			} else if t := p.typeName(); t == "array" || t == "object" || t == "integer" {
				var dec any
				if json.Unmarshal([]byte(str), &dec) == nil {
					v = dec
				}
			}
		}
		if f, ok := v.(float64); ok && p.typeName() == "integer" && f == float64(int64(f)) {
			v = int64(f)
		}
		args[k] = v
	}
	return args
}
