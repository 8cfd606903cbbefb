package invoke_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/app/invoke"
)

func ptr(f float64) *float64 { return &f }

var schemaSample = plugboard.Tool{
	Identity:    plugboard.ToolIdentity{Name: "t"},
	Description: plugboard.ToolDescription{LLM: "for models"},
	Parameters: []plugboard.Parameter{
		{Name: "q", Type: plugboard.ParamString, Form: "llm", Required: true, LLMDescription: "the query"},
		{Name: "n", Type: plugboard.ParamNumber, Form: "llm", Min: ptr(1), Max: ptr(10)},
		{Name: "mode", Type: plugboard.ParamSelect, Form: "llm", Options: []plugboard.Option{{Value: "a"}, {Value: "b"}}},
		{Name: "loud", Type: plugboard.ParamCheckbox, Form: "llm"},
		{Name: "doc", Type: plugboard.ParamFile, Form: "llm"},
		{Name: "limit", Type: plugboard.ParamNumber, Form: "form", Default: 5.0},
		{Name: "region", Type: plugboard.ParamString, Form: "form"},
	},
}

func TestInputSchema(t *testing.T) {
	t.Run("OKWithFiles", func(t *testing.T) {
		b, _ := json.Marshal(invoke.InputSchema(schemaSample, true))
		got := string(b)
		for _, want := range []string{`"q":{"description":"the query","type":"string"}`, `"n":{"maximum":10,"minimum":1,"type":"number"}`,
			`"mode":{"enum":["a","b"],"type":"string"}`, `"loud":{"type":"boolean"}`,
			`"doc":{"description":"(the URL of the file, http or https)","format":"uri","type":"string"}`,
			`"required":["q"]`, `"additionalProperties":false`} {
			if !strings.Contains(got, want) {
				t.Errorf("schema lacks %s:\n%s", want, got)
			}
		}
		if strings.Contains(got, "limit") || strings.Contains(got, "region") {
			t.Errorf("form parameters in the schema:\n%s", got)
		}
	})
	t.Run("OKWithoutFiles", func(t *testing.T) {
		b, _ := json.Marshal(invoke.InputSchema(schemaSample, false))
		got := string(b)
		if strings.Contains(got, `"doc"`) || !strings.Contains(got, `"q":`) || !strings.Contains(got, `"required":["q"]`) {
			t.Errorf("a model's schema (no files):\n%s", got)
		}
	})
	if d := invoke.ToolDescription(schemaSample); d != "for models" {
		t.Errorf("description %q", d)
	}
}
