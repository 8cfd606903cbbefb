package invoke

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
)

// CheckParams checks every declared parameter's value; it returns a
// message per parameter that is wrong, by name (none: nil). A file
// parameter is given by a value or by one of files.
func CheckParams(decl []plugboard.Parameter, values map[string]any, files []*store.RunFile) map[string]string {
	var out map[string]string
	for _, p := range decl {
		v := values[p.Name]
		var msg string
		if IsFileParam(p) {
			if p.Required && v == nil && !hasFile(files, p.Name) {
				msg = p.Name + " is required."
			}
		} else {
			msg = CheckParam(p, v)
		}
		if msg != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[p.Name] = msg
		}
	}
	return out
}

func hasFile(files []*store.RunFile, param string) bool {
	for _, f := range files {
		if f.Param == param {
			return true
		}
	}
	return false
}

// CheckParam checks one value (nil or a blank string: not given) against
// its declaration: required, type, select options, number range. It
// returns a message naming what is wrong, or "".
func CheckParam(p plugboard.Parameter, v any) string {
	if s, ok := v.(string); v == nil || ok && strings.TrimSpace(s) == "" && p.Type != plugboard.ParamBoolean {
		if p.Required {
			return p.Name + " is required."
		}
		return ""
	}
	switch p.Type {
	case plugboard.ParamString, plugboard.ParamSecret:
		if _, ok := v.(string); !ok {
			return p.Name + " must be a string, not " + shown(v) + "."
		}
	case plugboard.ParamBoolean:
		if _, ok := v.(bool); !ok {
			return p.Name + " must be true or false, not " + shown(v) + "."
		}
	case plugboard.ParamNumber:
		return checkNumber(p, v)
	case plugboard.ParamSelect:
		for _, o := range p.Options {
			if s, ok := v.(string); ok && o.Value == s {
				return ""
			}
		}
		return fmt.Sprintf("%s must be one of its options, not %s.", p.Name, shown(v))
	case plugboard.ParamArray:
		if _, ok := v.([]any); !ok {
			return fmt.Sprintf("%s must be a JSON %s.", p.Name, p.Type)
		}
	case plugboard.ParamObject:
		if _, ok := v.(map[string]any); !ok {
			return fmt.Sprintf("%s must be a JSON %s.", p.Name, p.Type)
		}
	}
	return ""
}

func checkNumber(p plugboard.Parameter, v any) string {
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case int:
		n = float64(x)
	case int64:
		n = float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return fmt.Sprintf("%s must be a number, not %s.", p.Name, shown(v))
		}
		n = f
	default:
		return fmt.Sprintf("%s must be a number, not %s.", p.Name, shown(v))
	}
	switch {
	case p.Min != nil && n < *p.Min:
		return fmt.Sprintf("%s must be at least %v.", p.Name, *p.Min)
	case p.Max != nil && n > *p.Max:
		return fmt.Sprintf("%s must be at most %v.", p.Name, *p.Max)
	}
	return ""
}

// shown is a value as a message quotes it: a string quoted, else its JSON.
func shown(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
