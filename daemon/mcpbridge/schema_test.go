package mcpbridge

import (
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/plugboard/plugboard"
)

// A tool's input schema as a server sends it becomes form-llm parameters
// (required first), and the playground's values go back as the schema's types.
func TestDeclarationsAndArguments(t *testing.T) {
	var schema map[string]any
	_ = json.Unmarshal([]byte(`{"type":"object","required":["q","n"],"properties":{
		"q":{"type":"string","description":"the query"},
		"n":{"type":"integer","minimum":1,"maximum":10},
		"ratio":{"type":["number","null"]},
		"safe":{"type":"boolean","default":true},
		"lang":{"enum":["en","fr",3]},
		"tags":{"type":"array","items":{"type":"string"}},
		"opts":{"type":"object"}}}`), &schema)
	decl := Declarations([]*mcp.Tool{{Name: "search", Title: "Search", Description: "Find things.", InputSchema: schema}})[0]
	if decl.Identity.Name != "search" || decl.Identity.Label.English() != "Search" || decl.Description.LLM != "Find things." {
		t.Fatalf("identity %+v %+v", decl.Identity, decl.Description)
	}
	want := map[string]string{"n": plugboard.ParamNumber, "q": plugboard.ParamString, "lang": plugboard.ParamSelect, "opts": plugboard.ParamString,
		"ratio": plugboard.ParamNumber, "safe": plugboard.ParamBoolean, "tags": plugboard.ParamString}
	order := ""
	for _, p := range decl.Parameters {
		order += p.Name + " "
		if p.Type != want[p.Name] || p.Form != plugboard.FormLLM || p.Required != (p.Name == "q" || p.Name == "n") {
			t.Errorf("%s: %+v", p.Name, p)
		}
	}
	if order != "n q lang opts ratio safe tags " {
		t.Fatalf("order %q", order)
	}
	n := decl.Parameters[0]
	if *n.Min != 1 || *n.Max != 10 || n.Precision == nil || *n.Precision != 0 {
		t.Errorf("n: %+v", n)
	}
	if lang := decl.Parameters[2]; len(lang.Options) != 3 || lang.Options[2].Value != "3" {
		t.Errorf("lang options %+v", lang.Options)
	}
	if q := decl.Parameters[1]; q.LLMDescription != "the query" {
		t.Errorf("q: %+v", q)
	}

	args := arguments(map[string]any{"n": 3.0, "lang": "3", "tags": `["a","b"]`, "opts": `{"x":1}`, "q": "hi", "extra": 1}, parseSchema(schema))
	got, _ := json.Marshal(args)
	if string(got) != `{"extra":1,"lang":3,"n":3,"opts":{"x":1},"q":"hi","tags":["a","b"]}` {
		t.Fatalf("arguments %s", got)
	}
}
