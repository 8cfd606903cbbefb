package gateway

import (
	"testing"

	"github.com/plugboard/plugboard"
)

func ptr(f float64) *float64 { return &f }

var sample = plugboard.Tool{
	Identity:    plugboard.ToolIdentity{Name: "t"},
	Description: plugboard.ToolDescription{LLM: "for models"},
	Parameters: []plugboard.Parameter{
		{Name: "q", Type: plugboard.ParamString, Form: "llm", Required: true, LLMDescription: "the query"},
		{Name: "n", Type: plugboard.ParamNumber, Form: "llm", Min: ptr(1), Max: ptr(10)},
		{Name: "mode", Type: plugboard.ParamSelect, Form: "llm", Options: []plugboard.Option{{Value: "a"}, {Value: "b"}}},
		{Name: "doc", Type: plugboard.ParamFile, Form: "llm"},
		{Name: "limit", Type: plugboard.ParamNumber, Form: "form", Default: 5.0},
		{Name: "region", Type: plugboard.ParamString, Form: "form"},
	},
}

func TestArguments(t *testing.T) {
	t.Run("OKFixedDefaultsAndFiles", func(t *testing.T) {
		p, err := arguments(sample, map[string]any{"q": "x", "doc": "https://example.com/a/report.pdf"}, map[string]any{"region": "eu"})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := p["doc"].(map[string]any)
		if p["q"] != "x" || p["region"] != "eu" || p["limit"] != 5.0 || doc["url"] != "https://example.com/a/report.pdf" || doc["filename"] != "report.pdf" {
			t.Fatalf("%v", p)
		}
	})
	for name, tc := range map[string]struct {
		args map[string]any
		want string
	}{
		"ErrRequired":        {map[string]any{}, "q is required."},
		"ErrType":            {map[string]any{"q": 1.0}, "q must be a string, not 1."},
		"ErrRange":           {map[string]any{"q": "x", "n": 11.0}, "n must be at most 10."},
		"ErrOption":          {map[string]any{"q": "x", "mode": "c"}, `mode must be one of its options, not "c".`},
		"ErrFileNotURL":      {map[string]any{"q": "x", "doc": "file:///etc/passwd"}, "doc must be the http or https URL of a file."},
		"ErrUnknown":         {map[string]any{"q": "x", "zz": 1.0}, "zz is not an argument of this tool."},
		"ErrFormParamByCall": {map[string]any{"q": "x", "region": "us"}, "region is set by the key's configuration, not by the caller."},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := arguments(sample, tc.args, nil)
			if plugboard.ErrorCode(err) != plugboard.EINVALID || plugboard.ErrorMessage(err) != tc.want {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
