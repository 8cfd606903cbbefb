package sdk_test

import (
	"testing"

	"github.com/plugboard/plugboard/sdk"
)

func TestRequestAccessors(t *testing.T) {
	r := &sdk.Request{Params: map[string]any{
		"s": "text", "n": 12.5, "ns": " 7 ", "b": true, "bs": "true", "obj": map[string]any{"a": 1.0}, "null": nil,
	}}
	checks := []struct {
		name      string
		got, want any
	}{
		{"String", r.String("s"), "text"},
		{"StringOfNumber", r.String("n"), "12.5"},
		{"StringOfObject", r.String("obj"), `{"a":1}`},
		{"StringOrMissing", r.StringOr("missing", "def"), "def"},
		{"Number", r.Number("n"), 12.5},
		{"NumberOfString", r.Float("ns"), 7.0},
		{"NumberOrBad", r.NumberOr("s", 3), 3.0},
		{"Int", r.Int("n"), 12},
		{"IntOrMissing", r.IntOr("missing", 50), 50},
		{"Bool", r.Bool("b"), true},
		{"BoolOfString", r.Bool("bs"), true},
		{"BoolMissing", r.Bool("missing"), false},
		{"HasNull", r.Has("null"), false},
		{"Has", r.Has("s"), true},
		{"Raw", r.Raw("obj").(map[string]any)["a"], 1.0},
		{"Credentials", sdk.Credentials{"k": "v"}.String("k"), "v"},
	}
	for _, c := range checks {
		t.Run("OK"+c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Fatalf("got %#v, want %#v", c.got, c.want)
			}
		})
	}
}
