package pkgfmt

import (
	"fmt"
	"slices"

	"github.com/plugboard/plugboard"
)

// paramTypes are the parameter types a tool may declare.
var paramTypes = []string{
	plugboard.ParamString, plugboard.ParamNumber, plugboard.ParamBoolean, plugboard.ParamSelect, plugboard.ParamSecret, plugboard.ParamFile,
	plugboard.ParamFiles, plugboard.ParamAppSelector, plugboard.ParamModelSelector, plugboard.ParamAny, plugboard.ParamDynamicSelect,
	plugboard.ParamArray, plugboard.ParamObject, plugboard.ParamCheckbox, plugboard.ParamDate, plugboard.ParamDateRange, plugboard.ParamToolsSelector,
}

// paramForms are where a parameter's value comes from.
var paramForms = []string{plugboard.FormLLM, plugboard.FormForm, plugboard.FormSchema}

// parseTool decodes and validates one tool yaml.
func parseTool(file string, data []byte, w *findings) (*plugboard.Tool, error) {
	t := new(plugboard.Tool)
	d, err := parseDoc(file, data, t, w)
	if err != nil {
		return nil, err
	}
	if err := checkTool(d, t); err != nil {
		return nil, err
	}
	if t.Parameters == nil {
		t.Parameters = []plugboard.Parameter{}
	}
	seen := map[string]bool{}
	for i := range t.Parameters {
		field := fmt.Sprintf("parameters[%d]", i)
		if err := checkParameter(d, field, &t.Parameters[i]); err != nil {
			return nil, err
		}
		if t.Parameters[i].ShowOn == nil {
			t.Parameters[i].ShowOn = []map[string]any{}
		}
		if name := t.Parameters[i].Name; seen[name] {
			d.warnf(field+".name", "the parameter %q is declared twice; Dify keeps both, and a call fills both from one value", name)
		}
		seen[t.Parameters[i].Name] = true
	}
	return t, nil
}

// checkTool checks a tool's identity and description.
func checkTool(d *doc, t *plugboard.Tool) error {
	switch {
	case t.Identity.Name == "":
		return d.errorf("identity.name", "required")
	case !providerNameRe.MatchString(t.Identity.Name):
		return d.errorf("identity.name", "%q must be letters, digits, _ and - only", t.Identity.Name)
	case t.Identity.Author == "":
		return d.errorf("identity.author", "required")
	}
	if err := requireI18n(d, "identity.label", t.Identity.Label); err != nil {
		return err
	}
	return requireI18n(d, "description.human", t.Description.Human)
}

// checkParameter checks one parameter at field (like "parameters[1]").
func checkParameter(d *doc, field string, p *plugboard.Parameter) error {
	switch {
	case p.Name == "":
		return d.errorf(field+".name", "required")
	case p.Type == "":
		return d.errorf(field+".type", "required")
	case !slices.Contains(paramTypes, p.Type):
		return d.errorf(field+".type", "unknown parameter type %q", p.Type)
	case p.Form == "":
		return d.errorf(field+".form", "required (llm, form or schema)")
	case !slices.Contains(paramForms, p.Form):
		return d.errorf(field+".form", "unknown form %q (want llm, form or schema)", p.Form)
	}
	if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
		d.warnf(field+".min", "min %v is greater than max %v: no number fits", *p.Min, *p.Max)
	}
	if err := requireI18n(d, field+".label", p.Label); err != nil {
		return err
	}
	if err := requireI18n(d, field+".human_description", p.HumanDescription); err != nil {
		return err
	}
	if p.Type == plugboard.ParamSelect {
		checkOptions(d, field, p.Options, p.Default)
	}
	return nil
}
